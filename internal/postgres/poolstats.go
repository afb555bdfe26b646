package postgres

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reports the connection pool that every statement draws on (pgxpool): database/sql
// (gorm, transactions, River) and the reads that go to pgx directly.
type poolCollector struct {
	pool                                               *pgxpool.Pool
	maxConns, total, idle, acquired                    *prometheus.Desc
	acquires, emptyAcquires, canceled, acquireDuration *prometheus.Desc
	emptyWait, created                                 *prometheus.Desc
}

func newPoolCollector(pool *pgxpool.Pool) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("pbudget_db_pool_"+name, help, nil, nil)
	}
	return &poolCollector{pool: pool,
		maxConns:        d("max_connections", "The pool's size (PB_DB_MAX_CONNS)."),
		total:           d("connections", "Connections open, idle or in use."),
		idle:            d("idle_connections", "Connections open and idle."),
		acquired:        d("in_use_connections", "Connections in use."),
		acquires:        d("acquires_total", "Connections taken from the pool."),
		emptyAcquires:   d("waits_total", "Takes that waited: no connection was idle (the pool is too small for the load when it keeps rising)."),
		canceled:        d("canceled_waits_total", "Takes abandoned while waiting (the request went away)."),
		acquireDuration: d("acquire_seconds_total", "Time spent taking connections from the pool, waits included."),
		emptyWait:       d("wait_seconds_total", "Time spent waiting for a connection when none was idle."),
		created:         d("connections_opened_total", "Connections opened."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxConns, c.total, c.idle, c.acquired, c.acquires, c.emptyAcquires,
		c.canceled, c.acquireDuration, c.emptyWait, c.created} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.maxConns, float64(s.MaxConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.acquired, float64(s.AcquiredConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	counter(c.canceled, float64(s.CanceledAcquireCount()))
	counter(c.acquireDuration, s.AcquireDuration().Seconds())
	counter(c.emptyWait, s.EmptyAcquireWaitTime().Seconds())
	counter(c.created, float64(s.NewConnsCount()))
}
