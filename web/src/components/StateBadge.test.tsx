import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { JOB_STATES, StateBadge } from './StateBadge';
import { LiveIndicator } from './LiveIndicator';

describe('StateBadge', () => {
  it('names every job state with its own colour', () => {
    render(<>{JOB_STATES.map((s) => <StateBadge key={s} state={s} />)}</>);
    const badges = JOB_STATES.map((s) => screen.getByText(s));
    expect(badges.map((b) => b.dataset.state)).toEqual([...JOB_STATES]);
    expect(new Set(badges.map((b) => b.className)).size).toBe(JOB_STATES.length);
  });
});

describe('LiveIndicator', () => {
  it('says whether the event stream is live', () => {
    const { rerender } = render(<LiveIndicator status="connected" />);
    expect(screen.getByRole('status').textContent).toBe('Live');
    rerender(<LiveIndicator status="reconnecting" />);
    expect(screen.getByRole('status').textContent).toBe('Reconnecting');
  });
});
