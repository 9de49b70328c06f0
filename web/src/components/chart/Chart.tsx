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
 * An ECharts chart; ECharts itself is its own chunk, loaded with the first chart (the page shows before it). Redrawn
 * in the theme's colours, resized with its box.
 */
export function Chart({ option, label, height = 220 }: { option: EChartsCoreOption; label: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<Instance | null>(null);
  const dark = useDarkClass();
  const [ready, setReady] = useState(false);

  useEffect(() => {
    let disposed = false;
    let resize: ResizeObserver | undefined;
    void import('./echarts').then(({ init }) => {
      if (disposed || !box.current) return;
      chart.current = init(box.current, dark ? 'dark' : undefined, { renderer: 'canvas' }) as unknown as Instance;
      // The observer also reports the size the chart was just made at: redrawing then would draw it all twice.
      resize = new ResizeObserver((entries) => {
        const c = chart.current;
        const box = entries.at(-1)?.contentRect;
        if (c && box && (Math.round(box.width) !== c.getWidth() || Math.round(box.height) !== c.getHeight())) c.resize();
      });
      resize.observe(box.current);
      setReady(true);
    });
    return () => {
      disposed = true;
      resize?.disconnect();
      chart.current?.dispose();
      chart.current = null;
      setReady(false);
    };
  }, [dark]);

  useEffect(() => {
    if (ready) chart.current?.setOption({ backgroundColor: 'transparent', ...option }, true);
  }, [ready, option]);

  return (
    <div role="img" aria-label={label} className="relative w-full" style={{ height }}>
      {!ready && <Skeleton className="absolute inset-0 h-full w-full" />}
      <div ref={box} className="h-full w-full" />
    </div>
  );
}
