import { afterEach } from 'vitest';
import { cleanup, configure } from '@testing-library/react';

// findBy*/waitFor wait for a condition; on a small shared machine that can take seconds, which is not a failure.
configure({ asyncUtilTimeout: 10_000 });

afterEach(() => cleanup());
