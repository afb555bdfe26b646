package outbox_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/audit"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/jobs"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/person"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/secret"
	"github.com/pbudget/pbudget/internal/testdb"
	"github.com/pbudget/pbudget/internal/webhook"
	"github.com/pbudget/pbudget/internal/webhook/outbox"
	"github.com/pbudget/pbudget/pkg/pbudget"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// instant is the delivery policy of these tests: the Standard Webhooks schedule's ten attempts,
// without the waits between them.
func instant() *webhook.Policy {
	p := webhook.DefaultPolicy()
	for i := range p.Schedule {
		p.Schedule[i] = 0
	}
	p.Jitter, p.MaxRetryAfter, p.Timeout = 0, 0, 5*time.Second
	return &p
}

type world struct {
	t       *testing.T
	db      *postgres.DB
	svc     app.Services
	q       *jobs.Queue
	council council.Council
	admin   actor.Actor
}

// newWorld is a migrated database of the test's own (so that its queue works only its jobs),
// with a council and the service built on it; its queue is not started (start does).
func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	name, err := testdb.Create(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = testdb.Drop(context.Background(), name) })
	require.NoError(t, testdb.Migrate(ctx, name))
	db, err := postgres.Open(ctx, testdb.RuntimeURL(name), 8, testdb.Logger())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	w := &world{t: t, db: db}
	w.q, w.svc = w.build()
	dump = func() {
		rows, err := db.SQL().Query(`SELECT kind, state::text, attempt, coalesce(errors::text, '') FROM river_job
			UNION ALL SELECT type, coalesce(fanned_out_at::text, 'null'), subscriptions, council_id::text FROM webhook_events
			UNION ALL SELECT event_types::text, status, version, council_id::text FROM webhook_subscriptions
			UNION ALL SELECT status, id::text, attempts, coalesce(last_error, '') FROM webhook_deliveries`)
		if err != nil {
			t.Log(err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var k, s, e string
			var a int
			_ = rows.Scan(&k, &s, &a, &e)
			t.Log(k, s, a, e)
		}
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	w.council, err = council.NewService(postgres.NewCouncilStore(db)).Ensure(ctx, "w-"+hex.EncodeToString(b[:]), "Webhook Council")
	require.NoError(t, err)
	w.admin = actor.Actor{Subject: "admin-1", CouncilID: w.council.ID, Roles: []actor.Role{actor.CouncilAdmin}}
	return w
}

var keys = func() *secret.KeyRing {
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	r, err := secret.NewKeyRing("test", map[string][]byte{"test": key})
	if err != nil {
		panic(err)
	}
	return r
}()

// build makes one instance of the service: its queue and services.
func (w *world) build() (*jobs.Queue, app.Services) {
	q, err := jobs.New(w.db.SQL(), testdb.Logger(), jobs.Config{PollInterval: 50 * time.Millisecond})
	require.NoError(w.t, err)
	svc := app.Build(w.db, testdb.Logger(), time.Now, q, app.PaymentOptions{Keys: keys})
	svc.Webhooks.Configure(outbox.Options{APIBase: "https://pbudget.example.gov.uk", Policy: instant(),
		Guard: webhook.Guard{AllowLoopback: true}})
	return q, svc
}

// start works the queue of an instance until the test ends.
func (w *world) start(q *jobs.Queue, svc app.Services) {
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(w.t, q.Start(ctx, app.WorkerDeps(w.db, svc)))
	w.t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = q.Stop(stop)
		cancel()
	})
}

// receiver is a test endpoint on loopback that answers from a script, then 204, and keeps what
// it received.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	script   []int
	header   http.Header
	received chan struct{}
}

func newReceiver(t *testing.T, script ...int) *receiver {
	r := &receiver{script: script, received: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies, r.headers = append(r.bodies, body), append(r.headers, req.Header.Clone())
		status := http.StatusNoContent
		if len(r.script) > 0 {
			status, r.script = r.script[0], r.script[1:]
		}
		for k, v := range r.header {
			w.Header()[k] = v
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		r.received <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

// wait waits for n deliveries (with a generous bound: a failing test, not a timed assertion).
func (r *receiver) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(waitFor)
	for r.count() < n {
		select {
		case <-r.received:
		case <-deadline:
			t.Fatalf("the receiver got %d deliveries, waiting for %d", r.count(), n)
		case <-time.After(5 * time.Second):
			if dump != nil {
				dump()
			}
		}
	}
}

func (w *world) subscribe(url string, types ...webhook.EventType) outbox.Created {
	w.t.Helper()
	c, err := w.svc.Webhooks.Create(context.Background(), w.admin, outbox.CreateInput{URL: url, EventTypes: types})
	require.NoError(w.t, err)
	return c
}

func (w *world) emit(svc app.Services, e webhook.Event) {
	w.t.Helper()
	require.NoError(w.t, w.db.WithinTx(context.Background(), func(ctx context.Context) error { return svc.Webhooks.Emit(ctx, e) }))
}

func (w *world) planEvent() webhook.Event {
	id := uuid.Must(uuid.NewV7())
	return webhook.Event{Type: webhook.PlanApproved, CouncilID: w.council.ID, ID: id, Path: webhook.PlanPath(id)}
}

// deliveryOf waits until the subscription's one delivery has settled and returns it.
func (w *world) settled(sub uuid.UUID) outbox.Delivery {
	w.t.Helper()
	return w.settledAs(w.admin, sub)
}

func (w *world) settledAs(a actor.Actor, sub uuid.UUID) outbox.Delivery {
	w.t.Helper()
	var d outbox.Delivery
	require.Eventually(w.t, func() bool {
		ds, err := w.svc.Webhooks.Deliveries(context.Background(), a, sub, "", pageOf(10))
		require.NoError(w.t, err)
		if len(ds) != 1 || ds[0].Status == outbox.Pending {
			return false
		}
		d = ds[0]
		return true
	}, 60*time.Second, 20*time.Millisecond)
	return d
}

func TestAnEventIsWrittenOnlyWithItsTransaction(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	err := w.svc.Webhooks.Emit(ctx, w.planEvent())
	require.Error(t, err, "outside a transaction an event is refused")
	failed := errors.New("the change failed")
	err = w.db.WithinTx(ctx, func(ctx context.Context) error {
		require.NoError(t, w.svc.Webhooks.Emit(ctx, w.planEvent()))
		return failed
	})
	require.ErrorIs(t, err, failed)
	var events, jobsQueued int
	require.NoError(t, w.db.SQL().QueryRow(`SELECT count(*) FROM webhook_events`).Scan(&events))
	require.NoError(t, w.db.SQL().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'webhook_fanout'`).Scan(&jobsQueued))
	require.Zero(t, events, "a rolled-back change announces nothing")
	require.Zero(t, jobsQueued)
	bad := w.planEvent()
	bad.Path = "/v1/support-plans/" + uuid.NewString()
	require.Error(t, w.db.WithinTx(ctx, func(ctx context.Context) error { return w.svc.Webhooks.Emit(ctx, bad) }),
		"an event's link is its own record's")
}

// TestACommittedEventIsDeliveredByTheNextInstanceAfterACrash: the instance that committed the
// change dies before anything is delivered (its queue never runs); another instance, started
// later, delivers the event, signed so that the client's verifier accepts it, thin, once.
func TestACommittedEventIsDeliveredByTheNextInstanceAfterACrash(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := newReceiver(t)
	sub := w.subscribe(r.URL, webhook.PlanApproved)
	e := w.planEvent()
	w.emit(w.svc, e) // committed; this instance "crashes": its queue is never started
	require.Zero(t, r.count())

	q2, svc2 := w.build()
	w.start(q2, svc2)
	r.wait(t, 1)
	d := w.settled(sub.ID)
	require.Equal(t, outbox.Delivered, d.Status)
	require.Equal(t, 1, r.count())

	body, header := r.bodies[0], r.headers[0]
	require.NoError(t, pbudget.VerifyWebhook(sub.Secret.Reveal(), header, body), "the client's verifier accepts the delivery")
	other, err := webhook.GenerateSecret()
	require.NoError(t, err)
	require.ErrorIs(t, pbudget.VerifyWebhook(other.Reveal(), header, body), pbudget.ErrWebhookSignature)
	event, err := pbudget.ParseWebhook(sub.Secret.Reveal(), header, body)
	require.NoError(t, err)
	require.Equal(t, "support_plan.approved", event.Type)
	require.Equal(t, e.ID.String(), event.Data.ID)
	require.Equal(t, w.council.Code, event.Data.Council)
	require.Equal(t, "https://pbudget.example.gov.uk/v1/support-plans/"+e.ID.String(), event.Data.Links.Self)
	require.JSONEq(t, `{"type":"support_plan.approved","timestamp":"`+event.Timestamp.Format(time.RFC3339Nano)+`",
		"data":{"id":"`+e.ID.String()+`","object":"support_plan","council":"`+w.council.Code+`",
		"links":{"self":"https://pbudget.example.gov.uk/v1/support-plans/`+e.ID.String()+`"}}}`, string(body),
		"thin: the type, the record, the council, the time and the link, nothing else")
}

// TestAReceiverThatFailsThreeTimesGetsTheEventEachTimeThenStops: attempts follow the schedule
// until the 2xx, then none; each carries the same webhook-id; the log shows all four.
func TestAReceiverThatFailsThreeTimesGetsTheEventEachTimeThenStops(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := newReceiver(t, 500, 503, 500)
	sub := w.subscribe(r.URL, webhook.PlanApproved)
	w.start(w.q, w.svc)
	w.emit(w.svc, w.planEvent())
	r.wait(t, 4)
	d := w.settled(sub.ID)
	require.Equal(t, outbox.Delivered, d.Status)
	require.Equal(t, 4, d.Attempts)
	require.Len(t, d.Log, 4)
	for i, a := range d.Log {
		require.Equal(t, i+1, a.Number)
	}
	require.Equal(t, webhook.Retry, d.Log[0].Outcome)
	require.Equal(t, webhook.Throttled, d.Log[1].Class)
	require.Equal(t, webhook.Delivered, d.Log[3].Outcome)
	ids := map[string]bool{}
	for _, h := range r.headers {
		ids[h.Get("webhook-id")] = true
	}
	require.Len(t, ids, 1, "every attempt is the same message")
	// Nothing more comes: the delivery is settled and no attempt is queued.
	var queued int
	require.NoError(t, w.db.SQL().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery' AND state IN ('available', 'scheduled', 'retryable', 'pending')`).Scan(&queued))
	require.Zero(t, queued)
	require.Equal(t, 4, r.count())

	// A replay sends it once more, with the same webhook-id, and is in the log as a new series.
	replayed, err := w.svc.Webhooks.Replay(context.Background(), w.admin, sub.ID, d.ID)
	require.NoError(t, err)
	require.Equal(t, 2, replayed.Series)
	r.wait(t, 5)
	d = w.settled(sub.ID)
	require.Equal(t, outbox.Delivered, d.Status)
	require.Len(t, d.Log, 5)
	require.Equal(t, r.headers[0].Get("webhook-id"), r.headers[4].Get("webhook-id"))
}

func TestA410DisablesTheEndpoint(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := newReceiver(t, http.StatusGone)
	sub := w.subscribe(r.URL, webhook.PlanApproved)
	w.start(w.q, w.svc)
	w.emit(w.svc, w.planEvent())
	d := w.settled(sub.ID)
	require.Equal(t, outbox.Cancelled, d.Status)
	got, err := w.svc.Webhooks.Get(context.Background(), w.admin, sub.ID)
	require.NoError(t, err)
	require.Equal(t, outbox.Disabled, got.Status)
	w.emit(w.svc, w.planEvent()) // no delivery is made to a disabled endpoint
	require.Eventually(t, func() bool {
		var pending int
		require.NoError(t, w.db.SQL().QueryRow(`SELECT count(*) FROM webhook_events WHERE fanned_out_at IS NULL`).Scan(&pending))
		return pending == 0
	}, 60*time.Second, 20*time.Millisecond)
	require.Equal(t, 1, r.count())
}

func TestRetryAfterPushesTheNextAttempt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r := newReceiver(t, http.StatusTooManyRequests)
	r.header = http.Header{"Retry-After": {"3600"}}
	q, svc := w.build()
	p := instant()
	p.MaxRetryAfter = 24 * time.Hour
	svc.Webhooks.Configure(outbox.Options{APIBase: "https://pbudget.example.gov.uk", Policy: p, Guard: webhook.Guard{AllowLoopback: true}})
	sub := w.subscribe(r.URL, webhook.PlanApproved)
	w.start(q, svc)
	before := time.Now()
	w.emit(svc, w.planEvent())
	r.wait(t, 1)
	require.Eventually(t, func() bool {
		ds, err := svc.Webhooks.Deliveries(context.Background(), w.admin, sub.ID, "", pageOf(10))
		require.NoError(t, err)
		return len(ds) == 1 && len(ds[0].Log) == 1
	}, 60*time.Second, 20*time.Millisecond)
	ds, err := svc.Webhooks.Deliveries(context.Background(), w.admin, sub.ID, "", pageOf(10))
	require.NoError(t, err)
	require.Equal(t, outbox.Pending, ds[0].Status)
	require.NotNil(t, ds[0].NextAttemptAt)
	require.False(t, ds[0].NextAttemptAt.Before(before.Add(time.Hour)), "the receiver asked for an hour")
}

func TestProviderSubscriptionsReceiveOnlyTheirProvidersEvents(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	providerOf := func(name string) uuid.UUID {
		var id uuid.UUID
		require.NoError(t, w.db.SQL().QueryRow(`INSERT INTO providers (council_id, id, name, type, contract_basis, active, version, created_at, updated_at)
			VALUES ($1, gen_random_uuid(), $2, 'isf_provider', 'framework', true, 1, now(), now()) RETURNING id`, w.council.ID, name).Scan(&id))
		return id
	}
	a, b := providerOf("A"), providerOf("B")
	ra, rb := newReceiver(t), newReceiver(t)
	staff := func(p uuid.UUID) actor.Actor {
		return actor.Actor{Subject: "staff-" + p.String(), CouncilID: w.council.ID, Roles: []actor.Role{actor.Provider}, ProviderID: &p}
	}
	subA, err := w.svc.Webhooks.Create(ctx, staff(a), outbox.CreateInput{URL: ra.URL, EventTypes: []webhook.EventType{webhook.StatementAccepted}})
	require.NoError(t, err)
	_, err = w.svc.Webhooks.Create(ctx, staff(b), outbox.CreateInput{URL: rb.URL, EventTypes: []webhook.EventType{webhook.StatementAccepted}})
	require.NoError(t, err)
	_, err = w.svc.Webhooks.Create(ctx, staff(a), outbox.CreateInput{URL: ra.URL, EventTypes: []webhook.EventType{webhook.PaymentRunApproved}})
	require.ErrorIs(t, err, outbox.ErrEventTypes, "a provider subscribes only to events about the people it serves")
	w.start(w.q, w.svc)
	id := uuid.Must(uuid.NewV7())
	w.emit(w.svc, webhook.Event{Type: webhook.StatementAccepted, CouncilID: w.council.ID, ID: id, Path: "/v1/isf-statements/" + id.String(), ProviderID: &a})
	ra.wait(t, 1)
	d := w.settledAs(staff(a), subA.ID)
	require.Equal(t, outbox.Delivered, d.Status)
	require.Zero(t, rb.count(), "provider B never receives provider A's events")
	_, err = w.svc.Webhooks.Get(ctx, staff(b), subA.ID)
	require.Error(t, err, "nor sees A's subscription")
}

var dump func()

func pageOf(n int) page.Request { return page.Request{Size: n} }

var waitFor = 60 * time.Second

func mustUUID(s string) uuid.UUID { return uuid.MustParse(s) }

// An event no subscription of its council takes is written fanned out to no one, with no fan-out
// job (the fan-out would have made no delivery); once a subscription takes its type, the next
// event waits for its fan-out, job and all. Both through Emit and through the audit trail
// (announced events, written with their audit event in one statement).
func TestAnEventNoSubscriptionTakesQueuesNoFanout(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	count := func() (unfanned, fannedToNone, queued int) {
		require.NoError(t, w.db.SQL().QueryRow(`SELECT count(*) FILTER (WHERE fanned_out_at IS NULL),
			count(*) FILTER (WHERE fanned_out_at = occurred_at AND subscriptions = 0) FROM webhook_events`).Scan(&unfanned, &fannedToNone))
		require.NoError(t, w.db.SQL().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'webhook_fanout'`).Scan(&queued))
		return
	}
	person := func() {
		_, err := w.svc.People.Create(ctx, actor.Actor{Subject: "p-1", CouncilID: w.council.ID, Roles: []actor.Role{actor.Practitioner}},
			person.Input{GivenName: "Ada", FamilyName: "Lovelace", DateOfBirth: date.MustParse("1980-01-01"), Type: person.Adult})
		require.NoError(t, err)
	}
	w.emit(w.svc, w.planEvent())
	person()
	unfanned, none, queued := count()
	require.Equal(t, [3]int{0, 2, 0}, [3]int{unfanned, none, queued}, "no subscription: fanned out to no one, no job")

	w.subscribe(newReceiver(t).URL, webhook.PlanApproved, webhook.PersonCreated)
	w.emit(w.svc, w.planEvent())
	person()
	unfanned, none, queued = count()
	require.Equal(t, [3]int{2, 2, 2}, [3]int{unfanned, none, queued}, "a subscription takes them: each waits for its fan-out job")
}

// The audits', recoveries' and ISF statements' changes raise their events through the audit
// trail they write: an audit concluded, a recovery notified, a statement accepted or queried,
// each with the GET path of its record; the steps before (an audit reconciled, a recovery
// proposed) raise none.
func TestTheFinanceActionsRaiseTheirEventsThroughTheAuditTrail(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	rec := w.svc.Webhooks.Announcing(postgres.NewAuditStore(w.db, time.Now))
	auditor := actor.Actor{Subject: "auditor-1", CouncilID: w.council.ID, Roles: []actor.Role{actor.Auditor}}
	id := func() uuid.UUID { return uuid.Must(uuid.NewV7()) }
	cases := []struct {
		action, entity string
		id             uuid.UUID
		want           webhook.EventType
		path           string
	}{
		{"dp_audit.conclude", "dp_audit", id(), webhook.AuditConcluded, "/v1/audits/"},
		{"dp_audit.reconcile", "dp_audit", id(), "", ""},
		{"recovery.notify", "recovery", id(), webhook.RecoveryNotified, "/v1/recoveries/"},
		{"recovery.proposed", "recovery", id(), "", ""},
		{"isf_statement.accepted", "isf_statement", id(), webhook.StatementAccepted, "/v1/isf-statements/"},
		{"isf_statement.queried", "isf_statement", id(), webhook.StatementQueried, "/v1/isf-statements/"},
	}
	for _, c := range cases {
		require.NoError(t, w.db.WithinTx(ctx, func(ctx context.Context) error {
			return rec.Record(ctx, auditor, audit.Event{Action: c.action, EntityType: c.entity, EntityID: c.id, Reason: "test"})
		}))
		var typ, path string
		err := w.db.SQL().QueryRow(`SELECT type, path FROM webhook_events WHERE council_id = $1 AND resource_id = $2`, w.council.ID, c.id).Scan(&typ, &path)
		if c.want == "" {
			require.ErrorIs(t, err, sql.ErrNoRows, "%s raises no event", c.action)
			continue
		}
		require.NoError(t, err, c.action)
		require.Equal(t, string(c.want), typ, c.action)
		require.Equal(t, c.path+c.id.String(), path, c.action)
	}
}

// The audit trail's statement reads whom an announced event is about itself (no round trip of its
// own): a person's event names the person, and the statement of every announced record type runs
// (a record it cannot find names no one, as Subjects would say).
func TestAnAnnouncedEventReadsWhomItIsAboutInTheAuditStatement(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	p, err := w.svc.People.Create(ctx, actor.Actor{Subject: "p-1", CouncilID: w.council.ID, Roles: []actor.Role{actor.Practitioner}},
		person.Input{GivenName: "Ada", FamilyName: "Lovelace", DateOfBirth: date.MustParse("1980-01-01"), Type: person.Adult})
	require.NoError(t, err)
	var named uuid.UUID
	require.NoError(t, w.db.SQL().QueryRow(`SELECT person_id FROM webhook_events WHERE council_id = $1 AND resource_id = $2`,
		w.council.ID, p.ID).Scan(&named))
	require.Equal(t, p.ID, named)

	rec := w.svc.Webhooks.Announcing(postgres.NewAuditStore(w.db, time.Now))
	auditor := actor.Actor{Subject: "auditor-1", CouncilID: w.council.ID, Roles: []actor.Role{actor.Auditor}}
	for _, c := range []struct{ action, entity string }{
		{"assessment.completed", "assessment"}, {"personal_budget.issued", "personal_budget"}, {"support_plan.approved", "support_plan"},
		{"direct_payment_agreement.created", "direct_payment_agreement"}, {"isf_agreement.created", "isf_agreement"},
		{"dp_audit.conclude", "dp_audit"}, {"recovery.notify", "recovery"}, {"isf_statement.accepted", "isf_statement"},
	} {
		id := uuid.Must(uuid.NewV7())
		require.NoError(t, w.db.WithinTx(ctx, func(ctx context.Context) error {
			return rec.Record(ctx, auditor, audit.Event{Action: c.action, EntityType: c.entity, EntityID: id, Reason: "test"})
		}), c.action)
		var person, provider *uuid.UUID
		require.NoError(t, w.db.SQL().QueryRow(`SELECT person_id, provider_id FROM webhook_events WHERE council_id = $1 AND resource_id = $2`,
			w.council.ID, id).Scan(&person, &provider), c.action)
		require.Nil(t, person, c.action)
		require.Nil(t, provider, c.action)
	}
}
