package access

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Recorder takes the access records of a response.
type Recorder interface {
	Record(ctx context.Context, recs []Record) error
}

// Inserter appends records; an error wrapping ErrRejected means the records themselves were
// refused (bad data), any other error that the database could not be reached.
type Inserter interface {
	Insert(ctx context.Context, recs []Record) error
}

// ErrRejected marks an insert the database refused for the records' content: retrying the same
// batch would fail again.
var ErrRejected = errors.New("access records rejected")

// The Writer's defaults. At 8,000 reads a second (make bench) a batch fills in about 60 ms; the
// loss window on a crash is what waits in the buffer and the batch, bounded by Buffer + BatchSize
// and in practice by one FlushInterval of reads (README, "Access records").
const (
	DefaultBatchSize     = 512
	DefaultFlushInterval = 50 * time.Millisecond
	DefaultBuffer        = 8192
	DefaultStopTimeout   = 10 * time.Second
)

// WriterOptions tune a Writer; zero fields take the defaults.
type WriterOptions struct {
	BatchSize     int           // write as soon as this many records wait
	FlushInterval time.Duration // write at most this long after the first waiting record arrived
	Buffer        int           // records that may wait for the writer; Record blocks beyond it
	StopTimeout   time.Duration // how long the last write may take once Run's context ends
	Log           *slog.Logger
}

// Writer writes access records in batches off the request path: Record queues them, and Run
// writes a batch when BatchSize records wait or FlushInterval after the first of them arrived,
// retrying while the database is unreachable (the queue then fills and Record waits: reads slow
// down rather than go unrecorded). When Run's context ends it writes what is queued and stops;
// after that Record writes directly.
type Writer struct {
	store Inserter
	o     WriterOptions
	in    chan Record
	flush chan chan error
	done  chan struct{}

	mu      sync.RWMutex // Record holds it to read stopped and queue; stopping takes it to set stopped
	stopped bool
	started atomic.Bool
	batched atomic.Int64 // records taken from the queue, not yet written

	written, dropped prometheus.Counter
	pending          prometheus.GaugeFunc
}

// NewWriter returns a Writer of store; call Run to start it.
func NewWriter(store Inserter, o WriterOptions) *Writer {
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{store: store, o: o, in: make(chan Record, o.Buffer), flush: make(chan chan error), done: make(chan struct{})}
	w.written = prometheus.NewCounter(prometheus.CounterOpts{Name: "pbudget_access_records_written_total",
		Help: "Access records written to the database."})
	w.dropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "pbudget_access_records_dropped_total",
		Help: "Access records the database refused, or that could not be written before the writer stopped."})
	w.pending = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "pbudget_access_records_pending",
		Help: "Access records queued or batched, not yet written: what a crash now would lose."},
		func() float64 { return float64(len(w.in) + int(w.batched.Load())) })
	return w
}

// Collectors are the Writer's metrics.
func (w *Writer) Collectors() []prometheus.Collector {
	return []prometheus.Collector{w.written, w.dropped, w.pending}
}

// Record queues recs for the next batch, waiting while the queue is full (ctx's error when ctx
// ends first). Once the Writer has stopped it writes them itself, in the caller's time.
func (w *Writer) Record(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	w.mu.RLock()
	if w.stopped {
		w.mu.RUnlock()
		return w.insert(ctx, recs)
	}
	defer w.mu.RUnlock()
	for _, r := range recs {
		select {
		case w.in <- r:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Flush writes every record queued before it was called, and returns when they are stored.
func (w *Writer) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case w.flush <- reply:
	case <-w.done:
		return nil // stopped: everything queued was written, and Record writes directly
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when Run has returned.
func (w *Writer) Done() <-chan struct{} { return w.done }

// Run writes batches until ctx ends, then writes what is queued (for up to StopTimeout) and
// returns. Call it once.
func (w *Writer) Run(ctx context.Context) {
	if !w.started.CompareAndSwap(false, true) {
		panic("access: Writer.Run called twice")
	}
	defer close(w.done)
	batch := make([]Record, 0, w.o.BatchSize)
	timer := time.NewTimer(w.o.FlushInterval)
	timer.Stop()
	// Normal writes outlive ctx's cancellation: a write under way finishes, then the stop begins.
	writeCtx := context.WithoutCancel(ctx)
	write := func() error {
		timer.Stop()
		err := w.write(writeCtx, ctx.Done(), batch)
		if err == nil {
			batch = batch[:0]
			w.batched.Store(0)
		}
		return err
	}
	take := func(r Record) {
		batch = append(batch, r)
		w.batched.Store(int64(len(batch)))
		if len(batch) == 1 {
			timer.Reset(w.o.FlushInterval)
		}
	}
	for {
		select {
		case r := <-w.in:
			take(r)
			if len(batch) >= w.o.BatchSize {
				_ = write()
			}
		case <-timer.C:
			_ = write()
		case reply := <-w.flush:
			// Everything queued before the flush was asked for is in the channel now.
			for n := len(w.in); n > 0; n-- {
				take(<-w.in)
				if len(batch) >= w.o.BatchSize {
					if err := write(); err != nil {
						break
					}
				}
			}
			reply <- write()
		case <-ctx.Done():
			w.stop(ctx, batch)
			return
		}
	}
}

// stop writes the batch and the queue within StopTimeout. Record calls waiting to queue are let
// through first; later ones write directly.
func (w *Writer) stop(ctx context.Context, batch []Record) {
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.o.StopTimeout)
	defer cancel()
	locked := make(chan struct{})
	go func() {
		w.mu.Lock()
		w.stopped = true
		w.mu.Unlock()
		close(locked)
	}()
	flush := func() {
		if err := w.write(stopCtx, stopCtx.Done(), batch); err != nil {
			w.dropped.Add(float64(len(batch)))
			w.o.Log.Error("access records lost at shutdown", slog.Int("records", len(batch)), slog.String("error", err.Error()))
		}
		batch = batch[:0]
		w.batched.Store(0)
	}
	for waiting := true; waiting; {
		select {
		case r := <-w.in:
			batch = append(batch, r)
			w.batched.Store(int64(len(batch)))
			if len(batch) >= w.o.BatchSize {
				flush()
			}
		case <-locked:
			waiting = false
		}
	}
	for n := len(w.in); n > 0; n-- {
		batch = append(batch, <-w.in)
		if len(batch) >= w.o.BatchSize {
			flush()
		}
	}
	flush()
}

// write stores batch, retrying with backoff while the database is unreachable until giveUp is
// closed. A batch the database refuses is written record by record, and the refused ones are
// dropped and counted (they would block every later record).
func (w *Writer) write(ctx context.Context, giveUp <-chan struct{}, batch []Record) error {
	if len(batch) == 0 {
		return nil
	}
	backoff := 100 * time.Millisecond
	for {
		err := w.insert(ctx, batch)
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrRejected) {
			w.writeOneByOne(ctx, batch)
			return nil
		}
		w.o.Log.Warn("access records not written yet; retrying", slog.Int("records", len(batch)), slog.String("error", err.Error()),
			slog.Duration("retry_in", backoff))
		select {
		case <-time.After(backoff):
		case <-giveUp:
			return err
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (w *Writer) writeOneByOne(ctx context.Context, batch []Record) {
	for i := range batch {
		err := w.insert(ctx, batch[i:i+1])
		if err != nil {
			w.dropped.Inc()
			w.o.Log.Error("access record refused by the database", slog.String("operation", batch[i].Operation),
				slog.String("entity_type", batch[i].EntityType), slog.String("error", err.Error()))
		}
	}
}

func (w *Writer) insert(ctx context.Context, recs []Record) error {
	if err := w.store.Insert(ctx, recs); err != nil {
		return err
	}
	w.written.Add(float64(len(recs)))
	return nil
}
