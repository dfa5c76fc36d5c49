/**
 * The worker's Prometheus exporter, and Drover's metrics that only the worker process sees. The workflow's
 * own (jobs, phases, questions, usage) are in workflows/job-metrics.ts and reach the same exporter.
 */
import { type MetricMeter, noopMetricMeter } from '@temporalio/common';
import { type PrometheusMetricsExporter, Runtime } from '@temporalio/worker';
import { JOB_METRIC_BUCKETS } from '../workflows/job-metrics.js';

/**
 * The exporter at `bindAddress` (host:port), scraped at /metrics. The SDK's metricPrefix (temporal_) is left
 * as it is: it names only the SDK's own metrics, and Drover names its custom ones drover_* itself.
 */
export function prometheusExporter(bindAddress: string): PrometheusMetricsExporter {
  return {
    prometheus: {
      bindAddress,
      countersTotalSuffix: true,
      useSecondsForDurations: true,
      histogramBucketOverrides: { ...JOB_METRIC_BUCKETS },
    },
  };
}

/**
 * The meter of the Runtime that runs now, without starting one: the SDK shuts its Runtime down once the last
 * worker and connection are gone, and Runtime.instance() would start another (binding the port again).
 */
function liveMeter(): MetricMeter {
  return Runtime._instance?.metricMeter ?? noopMetricMeter;
}

/** The docker pool's warm containers of an image, set whenever that number changes. */
export function setWarmContainers(image: string, idle: number): void {
  liveMeter().createGauge('drover_warm_containers', 'int', '', 'warm containers waiting for a job').set(idle, { image });
}
