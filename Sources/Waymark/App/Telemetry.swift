import CoreMetrics
import Prometheus

/// The process's metrics: every module counts and times through swift-metrics' API, backed here
/// by one Prometheus registry that `GET /metrics` writes out. Bootstrapped once per process
/// (in-process tests make several apps); a metric made before it counts nowhere.
public enum Telemetry {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        let ms = { (n: Double) in Duration.microseconds(Int64(n * 1000)) }
        factory.durationHistogramBuckets = [
            "waymark_http_request_duration_seconds": [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000].map(ms),
            "waymark_click_write_duration_seconds": [0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000, 5000].map(ms),
        ]
        factory.valueHistogramBuckets = ["waymark_click_write_batch_size": [1, 2, 5, 10, 20, 50, 100, 200, 500]]
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}
