import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { ManagedBadge } from './ManagedBadge';

describe('ManagedBadge', () => {
  it('shows a managed object with the way to change it, and nothing for one managed by hand', () => {
    const { rerender } = render(<ManagedBadge kind="Schedule" name="nightly" managed />);
    const badge = screen.getByText('managed by manifest');
    expect(badge.dataset.managed).toBeDefined();
    expect(badge.title).toContain('kairos unmanage Schedule nightly');
    rerender(<ManagedBadge kind="Schedule" name="nightly" managed={false} />);
    expect(screen.queryByText('managed by manifest')).toBeNull();
  });
});
