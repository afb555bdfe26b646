package jobs

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// gaugedStates are the job states the queue gauges report. Completed and cancelled jobs are left
// out: River deletes them after a day, and they say nothing about the work to do.
var gaugedStates = []string{"available", "scheduled", "running", "retryable", "discarded"}

// QueueCollector reports, at each scrape, the jobs of each queue in each state of gaugedStates as
// pbudget_jobs{queue,state}: one grouped count on river_job's (state, queue, …) index.
type QueueCollector struct {
	db   *sql.DB
	log  *slog.Logger
	desc *prometheus.Desc
}

// NewQueueCollector returns a collector of db's River queues, for the service's registry.
func NewQueueCollector(db *sql.DB, log *slog.Logger) *QueueCollector {
	return &QueueCollector{db: db, log: log, desc: prometheus.NewDesc("pbudget_jobs",
		"Background jobs by River queue and state (available, scheduled, running, retryable, discarded).",
		[]string{"queue", "state"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector. The service's two queues are always reported, at zero
// when empty; a failed count is logged and leaves the gauges out of that scrape.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts := map[[2]string]float64{}
	for _, q := range []string{QueueDefault, QueueBulk} {
		for _, s := range gaugedStates {
			counts[[2]string{q, s}] = 0
		}
	}
	rows, err := c.db.QueryContext(ctx, `SELECT queue, state::text, count(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'running', 'retryable', 'discarded') GROUP BY queue, state`)
	if err != nil {
		c.log.Warn("count jobs for metrics", slog.String("error", err.Error()))
		return
	}
	defer rows.Close()
	for rows.Next() {
		var queue, state string
		var n float64
		if err := rows.Scan(&queue, &state, &n); err != nil {
			c.log.Warn("count jobs for metrics", slog.String("error", err.Error()))
			return
		}
		counts[[2]string{queue, state}] = n
	}
	if err := rows.Err(); err != nil {
		c.log.Warn("count jobs for metrics", slog.String("error", err.Error()))
		return
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, n, k[0], k[1])
	}
}
