// Package cldexport produces a council's quarterly NHS England client-level data return (the
// format is internal/cld's) as background work: an export is requested, a River job reads the
// quarter's events person by person in batches (set-based reads, in person order so the file is
// the same bytes for the same records), streams them through cld.Writer, reports its progress,
// and keeps the file and its validation report (gzip-compressed as they are written, so a
// council's return is never held whole in memory) and the file's SHA-256 to be downloaded. Requests and
// downloads are in the audit trail; the file holds NHS numbers and dates of birth.
package cldexport

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/cld"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/txn"
)

// Status is an export's state.
type Status string

// The statuses.
const (
	Queued  Status = "queued"
	Running Status = "running"
	Done    Status = "done"
	Failed  Status = "failed"
)

// Export is one produced (or producing) return.
type Export struct {
	CouncilID    uuid.UUID
	ID           uuid.UUID
	Quarter      cld.Quarter
	LACode       string
	Components   map[string]string // the council's Service_Component mapping, on top of cld.DefaultComponents
	Status       Status
	PeopleTotal  int
	PeopleDone   int
	Rows         map[cld.EventType]int
	IssueCount   int
	IssuesByCode map[string]int
	SHA256       string
	Error        string
	RequestedBy  string
	RequestedAt  time.Time
	CompletedAt  *time.Time
}

// Cursor is the page position of an export.
func (e Export) Cursor() page.Cursor { return page.Cursor{Time: e.RequestedAt, ID: e.ID} }

// PersonEvents are one person's events of the quarter.
type PersonEvents struct {
	Person      cld.Person
	Assessments []cld.Assessment
	Services    []cld.Service
	Reviews     []cld.Review
}

// Store keeps exports and reads the quarter's events.
type Store interface {
	Insert(ctx context.Context, e Export) error
	Get(ctx context.Context, councilID, id uuid.UUID) (Export, error)
	List(ctx context.Context, councilID uuid.UUID, p page.Request) ([]Export, error)
	// Start marks the export running with its people total.
	Start(ctx context.Context, councilID, id uuid.UUID, total int) error
	Progress(ctx context.Context, councilID, id uuid.UUID, done int) error
	Finish(ctx context.Context, e Export, data, issues []byte) error
	Fail(ctx context.Context, councilID, id uuid.UUID, msg string) error
	File(ctx context.Context, councilID, id uuid.UUID, issues bool) ([]byte, error)

	// People are the people with an event in the quarter, in id order (ids only: 20,000 people
	// are 320 kB).
	People(ctx context.Context, councilID uuid.UUID, q cld.Quarter) ([]uuid.UUID, error)
	// Events are the events of the quarter of those people, in person order.
	Events(ctx context.Context, councilID uuid.UUID, q cld.Quarter, people []uuid.UUID) ([]PersonEvents, error)
	Categories(ctx context.Context, councilID uuid.UUID) (map[string]plan.Category, error)
}

// Enqueuer queues an export's job in the caller's transaction.
type Enqueuer interface {
	EnqueueCLDExport(ctx context.Context, councilID, exportID uuid.UUID) error
}

// Service is the CLD export use cases.
type Service struct {
	store Store
	queue Enqueuer
	audit audit.Recorder
	tx    txn.Transactor
	now   func() time.Time
	// Batch is how many people are read at a time (default 500).
	Batch int
}

// NewService returns a Service.
func NewService(store Store, queue Enqueuer, auditor audit.Recorder, tx txn.Transactor, now func() time.Time) *Service {
	return &Service{store: store, queue: queue, audit: auditor, tx: tx, now: now, Batch: 500}
}

// Errors of exports.
var (
	ErrNotDone = apperr.New(apperr.Conflict, "cld-export-not-done", "the export has not finished: download it once its status is done")
	ErrLACode  = apperr.New(apperr.Invalid, "cld-la-code-invalid", "the local authority code is 3 to 10 capital letters or digits")
)

var laCode = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)

// Request is an export to make.
type Request struct {
	Quarter    cld.Quarter
	LACode     string
	Components map[string]string
}

// Create requests the return of a quarter (any quarter: a past one is exported again from the
// records as they are) and queues its job.
func (s *Service) Create(ctx context.Context, a actor.Actor, in Request) (Export, error) {
	if _, err := cld.NewQuarter(in.Quarter.Year, in.Quarter.Q); err != nil {
		return Export{}, err
	}
	code := strings.TrimSpace(in.LACode)
	if !laCode.MatchString(code) {
		return Export{}, ErrLACode
	}
	comps := map[string]string{}
	for k, v := range in.Components {
		if v = strings.TrimSpace(v); v != "" {
			comps[k] = v
		}
	}
	e := Export{CouncilID: a.CouncilID, ID: uuid.Must(uuid.NewV7()), Quarter: in.Quarter, LACode: code, Components: comps, Status: Queued,
		Rows: map[cld.EventType]int{}, IssuesByCode: map[string]int{}, RequestedBy: a.Subject, RequestedAt: s.now().UTC().Truncate(time.Microsecond)}
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := s.store.Insert(ctx, e); err != nil {
			return err
		}
		if err := s.queue.EnqueueCLDExport(ctx, e.CouncilID, e.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "cld_export.requested", EntityType: "cld_export", EntityID: e.ID,
			ChangedFields: []string{"quarter", "la_code", "components"}, Details: map[string]any{"quarter": e.Quarter.String(), "la_code": code}})
	})
	return e, err
}

// Get returns an export with its progress.
func (s *Service) Get(ctx context.Context, a actor.Actor, id uuid.UUID) (Export, error) {
	return s.store.Get(ctx, a.CouncilID, id)
}

// List returns a page of exports, oldest first.
func (s *Service) List(ctx context.Context, a actor.Actor, p page.Request) ([]Export, error) {
	return s.store.List(ctx, a.CouncilID, p)
}

// Download returns a finished export's file (or its validation report) and records the download.
func (s *Service) Download(ctx context.Context, a actor.Actor, id uuid.UUID, issues bool) (Export, []byte, error) {
	var e Export
	var body []byte
	err := s.tx.WithinTx(ctx, func(ctx context.Context) error {
		var err error
		if e, err = s.store.Get(ctx, a.CouncilID, id); err != nil {
			return err
		}
		if e.Status != Done {
			return ErrNotDone
		}
		if body, err = s.store.File(ctx, a.CouncilID, id, issues); err != nil {
			return err
		}
		if body, err = uncompressed(body); err != nil {
			return err
		}
		what := "file"
		if issues {
			what = "validation_report"
		}
		return s.audit.Record(ctx, a, audit.Event{Action: "cld_export.downloaded", EntityType: "cld_export", EntityID: id,
			Details: map[string]any{"what": what, "quarter": e.Quarter.String(), "sha256": e.SHA256}})
	})
	return e, body, err
}

// Build produces the export's file. Run again (a retried job), it starts over: the file is
// written whole at the end, so a half-made one is never served.
func (s *Service) Build(ctx context.Context, councilID, id uuid.UUID) error {
	e, err := s.store.Get(ctx, councilID, id)
	if err != nil || e.Status == Done {
		return err
	}
	if err := s.build(ctx, e); err != nil {
		if ctx.Err() == nil {
			_ = s.store.Fail(context.WithoutCancel(ctx), councilID, id, err.Error())
		}
		return err
	}
	return nil
}

func (s *Service) build(ctx context.Context, e Export) error {
	everyone, err := s.store.People(ctx, e.CouncilID, e.Quarter)
	if err != nil {
		return err
	}
	total := len(everyone)
	if err := s.store.Start(ctx, e.CouncilID, e.ID, total); err != nil {
		return err
	}
	cats, err := s.store.Categories(ctx, e.CouncilID)
	if err != nil {
		return err
	}
	comps := cld.DefaultComponents()
	maps.Copy(comps, e.Components)
	// The file and the report are compressed as they are written, and kept compressed: a council's
	// return (27 MB for 20,000 people) is never held whole in memory, nor sent whole to the
	// database. The SHA-256 is of the file itself; Download gives it back uncompressed.
	var data, issues bytes.Buffer
	hash := sha256.New()
	dataZ, issuesZ := gzip.NewWriter(&data), gzip.NewWriter(&issues)
	w, err := cld.NewWriter(io.MultiWriter(dataZ, hash), issuesZ, cld.Config{LACode: e.LACode, Quarter: e.Quarter, Categories: cats, Components: comps})
	if err != nil {
		return err
	}
	done := 0
	for len(everyone) > 0 {
		people := everyone[:min(s.Batch, len(everyone))]
		everyone = everyone[len(people):]
		evs, err := s.store.Events(ctx, e.CouncilID, e.Quarter, people)
		if err != nil {
			return err
		}
		for _, pe := range evs {
			if err := WritePerson(w, pe); err != nil {
				return err
			}
		}
		done += len(people)
		if err := s.store.Progress(ctx, e.CouncilID, e.ID, done); err != nil {
			return err
		}
	}
	summary, err := w.Close()
	if err != nil {
		return err
	}
	if err := dataZ.Close(); err != nil {
		return err
	}
	if err := issuesZ.Close(); err != nil {
		return err
	}
	e.Status, e.PeopleDone, e.PeopleTotal, e.SHA256 = Done, done, max(total, done), hex.EncodeToString(hash.Sum(nil))
	e.Rows, e.IssuesByCode, e.IssueCount = summary.Rows, summary.Issues, 0
	for _, n := range summary.Issues {
		e.IssueCount += n
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	e.CompletedAt = &now
	return s.tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := s.store.Finish(ctx, e, data.Bytes(), issues.Bytes()); err != nil {
			return err
		}
		return s.audit.Record(ctx, actor.Actor{Subject: "pbudget:cld-export", CouncilID: e.CouncilID}, audit.Event{
			Action: "cld_export.completed", EntityType: "cld_export", EntityID: e.ID,
			Details: map[string]any{"quarter": e.Quarter.String(), "rows": e.Rows, "issues": e.IssuesByCode, "sha256": e.SHA256}})
	})
}

// uncompressed is a stored file as it was written: exports are kept gzip-compressed (those made
// before were kept as they are, and a CSV never starts with gzip's magic bytes).
func uncompressed(stored []byte) ([]byte, error) {
	if len(stored) < 2 || stored[0] != 0x1f || stored[1] != 0x8b {
		return stored, nil
	}
	r, err := gzip.NewReader(bytes.NewReader(stored))
	if err != nil {
		return nil, apperr.ErrInternal.Wrap(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, apperr.ErrInternal.Wrap(err)
	}
	return out, nil
}

// WritePerson writes one person's events: assessments, services, reviews, each in the order read.
func WritePerson(w *cld.Writer, pe PersonEvents) error {
	for _, a := range pe.Assessments {
		if err := w.Assessment(pe.Person, a); err != nil {
			return fmt.Errorf("cld: %w", err)
		}
	}
	for _, sv := range pe.Services {
		if err := w.Service(pe.Person, sv); err != nil {
			return fmt.Errorf("cld: %w", err)
		}
	}
	for _, r := range pe.Reviews {
		if err := w.Review(pe.Person, r); err != nil {
			return fmt.Errorf("cld: %w", err)
		}
	}
	return nil
}
