import { useEffect, useRef, useState } from 'react';
import type { EChartsCoreOption } from 'echarts/core';
import { Skeleton } from '../PageHeader';

type Instance = {
  setOption: (o: EChartsCoreOption, replace?: boolean) => void;
  resize: () => void;
  dispose: () => void;
  getWidth: () => number;
  getHeight: () => number;
};

const isDark = () => document.documentElement.classList.contains('dark');

/** Follows the theme class on <html> (the toggle and the system preference set it). */
function useDarkClass(): boolean {
  const [dark, setDark] = useState(isDark);
  useEffect(() => {
    const watch = new MutationObserver(() => setDark(isDark()));
    watch.observe(document.documentElement, { attributes: true, attributeFilter: ['class'] });
    return () => watch.disconnect();
  }, []);
  return dark;
}

/**
 * An ECharts chart; ECharts itself is its own chunk, loaded with the first chart (the page shows before it). Made once
 * its data are here (`loading` false; a skeleton until then), drawn at once with them rather than empty first and again
 * when they arrive; redrawn in the theme's colours, resized with its box.
 */
export function Chart({ option, label, height = 220, loading = false }: { option: EChartsCoreOption; label: string; height?: number; loading?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<Instance | null>(null);
  const dark = useDarkClass();
  const [ready, setReady] = useState(false);
  // Once its data came, the chart stays (a later fetch, e.g. of a queue added to it, shows in place).
  const [wanted, setWanted] = useState(!loading);
  if (!loading && !wanted) setWanted(true);
  // The option the chart shows now, so that it is drawn in the same task that makes it.
  const latest = useRef(option);
  const drawn = useRef<EChartsCoreOption | null>(null);
  useEffect(() => {
    latest.current = option;
  });

  useEffect(() => {
    if (!wanted) return;
    let disposed = false;
    let resize: ResizeObserver | undefined;
    void import('./echarts').then(({ init }) => {
      if (disposed || !box.current) return;
      const c = init(box.current, dark ? 'dark' : undefined, { renderer: 'canvas' }) as unknown as Instance;
      chart.current = c;
      c.setOption({ backgroundColor: 'transparent', ...latest.current }, true);
      drawn.current = latest.current;
      // The observer also reports the size the chart was just made at: redrawing then would draw it all twice.
      resize = new ResizeObserver((entries) => {
        const size = entries.at(-1)?.contentRect;
        if (size && (Math.round(size.width) !== c.getWidth() || Math.round(size.height) !== c.getHeight())) c.resize();
      });
      resize.observe(box.current);
      setReady(true);
    });
    return () => {
      disposed = true;
      resize?.disconnect();
      chart.current?.dispose();
      chart.current = null;
      drawn.current = null;
      setReady(false);
    };
  }, [dark, wanted]);

  useEffect(() => {
    if (!ready || option === drawn.current) return;
    chart.current?.setOption({ backgroundColor: 'transparent', ...option }, true);
    drawn.current = option;
  }, [ready, option]);

  return (
    <div role="img" aria-label={label} className="relative w-full" style={{ height }}>
      {!ready && <Skeleton className="absolute inset-0 h-full w-full" />}
      <div ref={box} className="h-full w-full" />
    </div>
  );
}
