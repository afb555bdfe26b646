package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/webhook"
)

// hostileFixtures are the real records the hostile walk sends its requests to. Path parameters
// are filled by name (a "path prefix:name" entry wins over the plain name); body fields of format
// uuid, by field name. An operation with a path parameter that no entry fills fails the walk:
// add the record here when you add the operation.
type hostileFixtures struct {
	path map[string]string // "person_id" or "/v1/isf-agreements:agreement_id" → id
	body map[string]string // "related_person_id" → id
}

func (f hostileFixtures) param(path, name string) (string, bool) {
	for key, id := range f.path {
		if prefix, param, ok := strings.Cut(key, ":"); ok && param == name && strings.HasPrefix(path, prefix) {
			return id, true
		}
	}
	id, ok := f.path[name]
	return id, ok
}

// buildHostileFixtures makes, through the API, one record of every kind an operation can address.
func (b *bundle) buildHostileFixtures() hostileFixtures {
	b.t.Helper()
	t := b.t
	b.rateTable("2025-04-06", 11_250) // payBundle made the RAS
	isf := b.provider("isf_provider")
	// A webhook endpoint for every event the fixtures raise, so that there are deliveries to read
	// and replay.
	hook := b.webhookReceiver()
	var types []string
	for _, tp := range webhook.EventTypes {
		types = append(types, string(tp))
	}
	r0 := b.do(http.MethodPost, "/v1/webhook-subscriptions", b.token("council_admin"), map[string]any{"url": hook.URL, "event_types": types})
	require.Equal(t, http.StatusCreated, r0.Status, string(r0.Body))
	var sub api.WebhookSubscriptionWithSecret
	r0.decode(t, &sub)
	p, pb := b.pricedBudget()
	other := b.newPerson(map[string]any{"given_name": "Jo", "date_of_birth": "1970-01-01"})
	third := b.newPerson(map[string]any{"given_name": "Kim", "date_of_birth": "1972-01-01"})
	pid := p.Id.String()

	var completed api.AssessmentList
	b.do(http.MethodGet, "/v1/people/"+pid+"/assessments", b.token("practitioner"), nil).decode(t, &completed)
	require.NotEmpty(t, completed.Items)

	// Drafts, so that changes and actions reach their rules.
	r := b.do(http.MethodPost, "/v1/people/"+pid+"/assessments", b.token("practitioner"), map[string]any{"type": "needs", "practitioner": "A. Patel"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var draft api.Assessment
	r.decode(t, &draft)

	admin := b.token("council_admin")
	r = b.do(http.MethodPost, "/v1/ras-versions", admin, map[string]any{"assessment_type": "carer", "name": "Carers RAS", "questionnaire": questionnaire(),
		"model": map[string]any{"kind": "points", "pence_per_point": 10_000}})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var ras api.RASVersion
	r.decode(t, &ras)

	future := b.rateTable("2027-04-06", 11_700)
	r = b.do(http.MethodPost, "/v1/rate-tables/"+future.Id.String()+"/uprate", b.token("finance"), nil)
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	jobID := r.Header.Get("Location")[strings.LastIndex(r.Header.Get("Location"), "/")+1:] // queued until the table's first day
	tableDraft := b.rateTable("2028-04-06", 11_800)

	r = b.do(http.MethodPost, "/v1/people/"+pid+"/financial-assessments", b.token("finance"), workedExample("2025-07-01"))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var fa api.FinancialAssessment
	r.decode(t, &fa)

	r = b.do(http.MethodPost, "/v1/people/"+pid+"/relationships", b.token("practitioner"), map[string]any{"kind": "carer_of", "related_person_id": other.Id})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var rel api.Relationship
	r.decode(t, &rel)

	r = b.do(http.MethodPost, "/v1/funding-requests", b.token("practitioner"), map[string]any{"budget_id": pb.Id, "requested_annual_pence": 2_500_000, "reason": "two carers"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var fr api.FundingRequest
	r.decode(t, &fr)

	approved, tag := b.planWith(pb,
		lineBody("personal_assistant", "direct_payment", 1_500, "10", pb),
		lineBody("day_service", "isf", 7_500, "1", pb, "provider_id", isf.Id))
	tag = b.approve(approved, b.submit(approved, tag))
	start := pb.StartDate.Time.Format("2006-01-02")
	r = b.do(http.MethodPost, "/v1/direct-payment-agreements", b.token("finance"), map[string]any{
		"plan_id": approved.Id, "recipient": "person", "account_type": "prepaid_card", "payment_basis": "net", "frequency": "four_weekly", "start_date": start})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var dp api.DirectPaymentAgreement
	r.decode(t, &dp)
	r = b.do(http.MethodPost, "/v1/isf-agreements", b.token("finance"), map[string]any{
		"plan_id": approved.Id, "provider_id": isf.Id, "payment_frequency": "four_weekly", "statement_frequency": "monthly", "start_date": start})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var isfAg api.ISFAgreement
	r.decode(t, &isfAg)
	r = b.do(http.MethodPost, "/v1/support-plans/"+approved.Id.String()+"/revise", b.token("practitioner"), nil, "If-Match", tag)
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var revision api.SupportPlan
	r.decode(t, &revision)
	require.NotEmpty(t, revision.Lines)
	r = b.do(http.MethodPost, "/v1/support-plans/"+revision.Id.String()+"/top-ups", b.token("practitioner"), map[string]any{
		"plan_line_id": revision.Lines[0].Id, "description": "two more hours", "payer": "parent", "payer_name": "Dee", "annual_pence": 156_000},
		"If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	r.decode(t, &revision)
	r = b.do(http.MethodPost, "/v1/me/management-change-requests", b.personToken(p.Id), map[string]any{
		"plan_id": approved.Id, "plan_line_id": approved.Lines[1].Id, "requested_option": "direct_payment", "reason": "my own PA"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var change api.ManagementChangeRequest
	r.decode(t, &change)

	pay := b.paidFixture()
	acct := b.accountFixture(pay.f.dp.Id)

	// The person's account, with a statement they uploaded and a flag on it.
	myAccount := b.accountOf(dp.Id)
	r = b.myImport(b.personToken(p.Id), myAccount, "card", cardStatement(start, "Lucky Bets", "7995", "-20.00"))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	_, myFlag := b.flagOf(myAccount)

	r = b.do(http.MethodPost, "/v1/people/"+pid+"/reviews", b.token("practitioner"), map[string]any{"held_on": b.today(), "reason": "planned",
		"outcomes": []any{map[string]any{"outcome": 0, "rating": "achieved"}}, "needs_changed": false, "decision": "no_change"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var rev api.ReviewRecorded
	r.decode(t, &rev)
	r = b.do(http.MethodPost, "/v1/cld-exports", b.token("council_admin"), map[string]any{"quarter": "2026-Q1", "la_code": "E06000032"})
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	var export api.CLDExport
	r.decode(t, &export)
	delivery := b.settledDelivery(sub.Id)
	fin := b.financeFixtures(isf, isfAg, approved)
	// The person's own audit, concluded with a recovery they were notified of: their direct
	// payment signed, its card set and paid.
	r = b.do(http.MethodPatch, "/v1/direct-payment-agreements/"+dp.Id.String(), b.token("practitioner"), map[string]any{"signed_date": start},
		"If-Match", etagOf(dp.Version))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &dp)
	b.setDetails("/v1/direct-payment-agreements/"+dp.Id.String()+"/payment-details",
		map[string]any{"prepaid_card": map[string]any{"card_account_reference": "CARD-" + uuid.NewString()[:8]}}, true)
	b.pay(b.createRun("2026-07-27"))
	b.clock.Set("2026-07-28")
	mine := myFixture{payFixture: payFixture{dp: dp}}
	b.myAudit(&mine, true)

	return hostileFixtures{
		path: map[string]string{
			"run_id": pay.run.Id.String(), "payment_line_id": pay.line.Id.String(), "one_off_id": pay.oneOff.Id.String(),
			"file_id":   pay.files["bacs"].String(),
			"person_id": pid, "relationship_id": rel.Id.String(), "assessment_id": draft.Id.String(),
			"ras_version_id": ras.Id.String(), "budget_id": pb.Id.String(), "funding_request_id": fr.Id.String(),
			"rate_table_id": tableDraft.Id.String(), "job_id": jobID, "financial_assessment_id": fa.Id.String(),
			"provider_id": isf.Id.String(), "plan_id": revision.Id.String(), "line_id": revision.Lines[0].Id.String(),
			"/v1/direct-payment-agreements:agreement_id":    dp.Id.String(),
			"/v1/isf-agreements:agreement_id":               isfAg.Id.String(),
			"/v1/me/agreements:agreement_id":                dp.Id.String(),
			"/v1/me/direct-payment-agreements:agreement_id": dp.Id.String(),
			"/v1/me/direct-payment-accounts:account_id":     myAccount.String(),
			"/v1/me/direct-payment-accounts:flag_id":        myFlag.String(),
			"/v1/me/audits:audit_id":                        mine.audit.String(),
			"/v1/me/recoveries:recovery_id":                 mine.recovery.String(),
			"top_up_id":                                     revision.TopUps[0].Id.String(), "request_id": change.Id.String(), "letter_kind": "agreed",
			"subscription_id": sub.Id.String(), "delivery_id": delivery.String(), "review_id": rev.Review.Id.String(),
			"export_id":  export.Id.String(),
			"account_id": acct.account, "statement_id": acct.statement, "upload_id": acct.upload, "flag_id": acct.flag,
			"/v1/isf-statements:statement_id": fin.statement, "recovery_id": fin.recovery, "audit_id": fin.audit,
		},
		body: map[string]string{
			"related_person_id": third.Id.String(), "budget_id": pb.Id.String(), "plan_id": approved.Id.String(),
			"provider_id": isf.Id.String(), "personal_assistant_id": other.Id.String(), "recipient_person_id": other.Id.String(),
			"cared_for_person_id": other.Id.String(), "reassesses_id": completed.Items[0].Id.String(),
			"statement_line_id": acct.line, "audit_id": fin.audit,
		},
	}
}

// invalidUTF8 stands for bytes that are not UTF-8; JSON encoding cannot carry them, so the
// encoded body has the placeholder replaced.
const invalidUTF8 = "\uE000invalid-utf8\uE000"

// hostileCase is one request of the walk.
type hostileCase struct {
	name   string
	method string
	path   string
	body   []byte // nil: no body
	ctype  string
	header [][2]string
}

// TestNoHostileInputReachesA5xxOrChangesAnything walks every operation of openapi.yaml with real
// ids and sends, for each parameter and each body field (nested objects and arrays included),
// boundary and hostile values. No answer may be a 5xx, every answer must be in the contract, and a
// refusal (4xx) must leave every council table as it was.
func TestNoHostileInputReachesA5xxOrChangesAnything(t *testing.T) {
	t.Parallel()
	// A server on its own clock: the payment records (a run built, approved and exported) are dated.
	b, _ := payBundle(t, "2026-04-01")
	fx := b.buildHostileFixtures()
	// The review sweep runs when the queue starts (and every 15 minutes): let its first run finish,
	// or it may recompute the fixtures' review schedules (and announce them) between a refused
	// request's two counts.
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.db.SQL().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'review_sweep' AND state = 'completed'`).Scan(&n))
		return n > 0
	}, 60*time.Second, 50*time.Millisecond, "the first review sweep")
	tables := b.councilTables()
	tok := b.token("practitioner", "approver", "panel", "finance", "auditor", "council_admin")
	// The person view's routes are walked as the fixtures' person, whose records they are.
	personTok := b.personToken(uuid.MustParse(fx.path["person_id"]))

	var ops, inputs, fiveXX, partial int
	kinds := map[string]int{}
	paths := shared.spec.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := shared.spec.Paths.Value(path)
		methods := make([]string, 0, 4)
		for m := range item.Operations() {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, method := range methods {
			op := item.GetOperation(method)
			params := append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...)
			filled := path
			for _, p := range params {
				if p.Value.In != "path" {
					continue
				}
				id, ok := fx.param(path, p.Value.Name)
				require.True(t, ok, "%s %s: no fixture fills the path parameter %s; add one to buildHostileFixtures", method, path, p.Value.Name)
				filled = strings.Replace(filled, "{"+p.Value.Name+"}", id, 1)
			}
			ops++
			cases := hostileCases(method, path, filled, op, params, fx)
			// A GET cannot write; for the others, every refusal is checked against the rows before it.
			writes := method != http.MethodGet
			var before string
			if writes {
				before = b.snapshot(tables)
			}
			for _, c := range cases {
				inputs++
				caller := tok
				if strings.HasPrefix(path, "/v1/me") {
					caller = personTok
				}
				r := b.sendHostile(c, caller)
				if err := specError(c.method, c.path, c.body, r); err != nil {
					t.Errorf("%s: outside the contract: %v", c.name, err)
				}
				if r.Status >= 500 {
					fiveXX++
					kinds[fmt.Sprintf("%s %s", method, path)]++
					t.Errorf("%s: %d %s", c.name, r.Status, truncate(r.Body))
				}
				if !writes {
					continue
				}
				after := b.snapshot(tables)
				if r.Status >= 400 && changedByRefusal(tables, before, after) {
					partial++
					t.Errorf("%s: refused with %d but changed rows: %s → %s (tables %v)", c.name, r.Status, before, after, tables)
				}
				before = after
			}
		}
	}
	t.Logf("hostile walk: %d operations covered, %d inputs tried, %d 5xx, %d partial writes (tables watched: %d)", ops, inputs, fiveXX, partial, len(tables))
	for k, n := range kinds {
		t.Logf("5xx on %s: %d", k, n)
	}
}

func (b *bundle) sendHostile(c hostileCase, tok string) *resp {
	var body *bytes.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	} else {
		body = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(c.method, c.path, body)
	if c.body != nil {
		req.Header.Set("Content-Type", c.ctype)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	for _, h := range c.header {
		req.Header.Set(h[0], h[1])
	}
	rec := httptest.NewRecorder()
	b.e.ServeHTTP(rec, req)
	return &resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// councilTables lists every table with a council_id column but access_records: the walk's own
// successful reads leave access records, written in batches off the request path, so their count
// moves between a refusal's before and after without the refusal writing anything.
func (b *bundle) councilTables() []string {
	b.t.Helper()
	rows, err := b.db.SQL().Query(`SELECT table_name FROM information_schema.columns
		WHERE column_name = 'council_id' AND table_schema = current_schema() AND table_name <> 'access_records'
		ORDER BY table_name`)
	require.NoError(b.t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		require.NoError(b.t, rows.Scan(&n))
		out = append(out, n)
	}
	require.NoError(b.t, rows.Err())
	require.NotEmpty(b.t, out)
	return out
}

// snapshot counts the council's rows of every table in one query.
// snapshot counts each table's rows of the council, once the background jobs that earlier
// successful requests queued (a payment run's build) have run.
func (b *bundle) snapshot(tables []string) string {
	b.t.Helper()
	require.Eventually(b.t, func() bool {
		var waiting int
		require.NoError(b.t, b.db.SQL().QueryRow(`SELECT count(*) FROM river_job
			WHERE state IN ('available', 'running', 'pending') AND kind <> 'sweep_idempotency_keys'`).Scan(&waiting))
		return waiting == 0
	}, 30*time.Second, 20*time.Millisecond, "background jobs still waiting")
	parts := make([]string, len(tables))
	for i, tb := range tables {
		parts[i] = fmt.Sprintf("(SELECT count(*) FROM %q WHERE council_id = $1)::text", tb)
	}
	var s string
	require.NoError(b.t, b.db.SQL().QueryRow("SELECT concat_ws(',', "+strings.Join(parts, ", ")+")", b.council.ID).Scan(&s))
	return s
}

// changedByRefusal reports whether a refused request changed rows: any table gained or lost
// rows, but for idempotency keys that expired meanwhile (the payment fixtures' server runs on a
// clock in the past, and the periodic sweep deletes its keys as expired by the real clock).
func changedByRefusal(tables []string, before, after string) bool {
	b, a := strings.Split(before, ","), strings.Split(after, ",")
	for i := range tables {
		nb, _ := strconv.Atoi(b[i])
		na, _ := strconv.Atoi(a[i])
		if na > nb || (na < nb && tables[i] != "idempotency_keys") {
			return true
		}
	}
	return false
}

// hostileCases builds the requests for one operation.
func hostileCases(method, path, filled string, op *openapi3.Operation, params openapi3.Parameters, fx hostileFixtures) []hostileCase {
	var out []hostileCase
	where := method + " " + path
	ifMatch := [][2]string{{"If-Match", `"1"`}}
	headers := [][2]string{}
	for _, p := range params {
		if p.Value.In == "header" && p.Value.Name == "If-Match" {
			headers = ifMatch
		}
	}
	var base any
	var schema *openapi3.Schema
	ctype := "application/json"
	if op.RequestBody != nil && op.RequestBody.Value.Content.Get("text/csv") != nil {
		return csvHostileCases(where, method, filled, op, params, headers)
	}
	if op.RequestBody != nil {
		mt := op.RequestBody.Value.Content.Get("application/json")
		schema = mt.Schema.Value
		base = substituteIDs(mt.Example, fx)
	}
	encode := func(v any) []byte {
		raw, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		quoted, _ := json.Marshal(invalidUTF8)
		return bytes.ReplaceAll(raw, quoted, []byte("\"\xff\xfe\""))
	}
	add := func(name, target string, body []byte, hdr [][2]string) {
		out = append(out, hostileCase{name: where + " " + name, method: method, path: target, body: body, ctype: ctype, header: hdr})
	}

	// Parameters.
	for _, p := range params {
		pv := p.Value
		switch pv.In {
		case "query":
			for label, v := range valuesFor(pv.Schema.Value) {
				q := url.Values{}
				s, _ := json.Marshal(v)
				str := strings.Trim(string(s), `"`)
				if sv, ok := v.(string); ok {
					str = sv
				}
				q.Set(pv.Name, str)
				target := filled + "?" + strings.ReplaceAll(q.Encode(), "%EE%80%80invalid-utf8%EE%80%80", "%FF%FE")
				add("query "+pv.Name+" "+label, target, bodyOrNil(base, encode), headers)
			}
		case "path":
			for _, bad := range []string{"a%00b", "%FF%FE", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "0190b6a2-4c1e-7d3a-9f10-5b2c8e7a1d99"} {
				id, _ := fx.param(path, pv.Name)
				add("path "+pv.Name+" "+bad, strings.Replace(filled, id, bad, 1), bodyOrNil(base, encode), headers)
			}
		case "header":
			for _, bad := range []string{"", "x", `"abc"`, `W/"1"`, `"99999999999999999999"`, "\x01\x02", strings.Repeat("k", 300), "\"1\"\x00"} {
				hdr := append(append([][2]string{}, headers...), [2]string{pv.Name, bad})
				add("header "+pv.Name+" "+fmt.Sprintf("%q", bad), filled, bodyOrNil(base, encode), hdr)
			}
		}
	}

	// The body as a whole.
	if op.RequestBody == nil {
		add("a body where none is taken", filled, []byte(`{}`), headers)
		add("a JSON null body where none is taken", filled, []byte(`null`), headers)
		return out
	}
	valid := encode(base)
	add("the example", filled, valid, headers)
	add("no body", filled, nil, headers)
	for label, raw := range map[string]string{
		"trailing data": string(valid) + ` {"x":1}`, "two values": string(valid) + string(valid), "null": "null",
		"array": "[]", "string": `"x"`, "invalid UTF-8": "\xff\xfe", "truncated": string(valid[:len(valid)/2]),
		"empty object": "{}", "unknown field": strings.Replace(string(valid), "{", `{"zz_unknown":1,`, 1),
	} {
		add("body "+label, filled, []byte(raw), headers)
	}
	for _, mt := range []string{"text/plain", "application/xml"} {
		out = append(out, hostileCase{name: where + " content type " + mt, method: method, path: filled, body: valid, ctype: mt, header: headers})
	}

	// Every field, walking the schema from the example.
	for _, m := range mutations(schema, base, "") {
		add("field "+m.ptr+" "+m.label, filled, encode(m.body), headers)
	}
	return out
}

func bodyOrNil(base any, encode func(any) []byte) []byte {
	if base == nil {
		return nil
	}
	return encode(base)
}

// substituteIDs replaces every uuid-named field of the example by a fixture id.
func substituteIDs(v any, fx hostileFixtures) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			if id, ok := fx.body[k]; ok {
				out[k] = id
				continue
			}
			out[k] = substituteIDs(val, fx)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = substituteIDs(val, fx)
		}
		return out
	}
	return v
}

type mutation struct {
	ptr, label string
	body       any
}

// mutations returns copies of base with one field replaced by a hostile value, for every
// property of schema (present in base or not) and, recursively, for the objects and arrays base
// holds.
func mutations(s *openapi3.Schema, base any, ptr string) []mutation {
	var out []mutation
	obj, _ := base.(map[string]any)
	if s == nil || obj == nil {
		return nil
	}
	for _, name := range propertyNames(s) {
		ps := propertySchema(s, name)
		for label, v := range valuesFor(ps) {
			out = append(out, mutation{ptr + "/" + name, label, with(obj, name, v)})
		}
		out = append(out, mutation{ptr + "/" + name, "removed", without(obj, name)})
		switch child := obj[name].(type) {
		case map[string]any:
			for _, m := range mutations(ps, child, ptr+"/"+name) {
				out = append(out, mutation{m.ptr, m.label, with(obj, name, m.body)})
			}
		case []any:
			if len(child) == 0 || ps == nil || ps.Items == nil {
				continue
			}
			items := ps.Items.Value
			replace := func(first any) []any {
				list := append([]any{first}, child[1:]...)
				return list
			}
			for label, v := range valuesFor(items) {
				out = append(out, mutation{ptr + "/" + name + "/0", label, with(obj, name, replace(v))})
			}
			out = append(out, mutation{ptr + "/" + name, "10000 items", with(obj, name, repeat(child[0], 10_000))})
			for _, m := range mutations(items, child[0], ptr+"/"+name+"/0") {
				out = append(out, mutation{m.ptr, m.label, with(obj, name, replace(m.body))})
			}
		}
	}
	return out
}

func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func without(m map[string]any, key string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func propertyNames(s *openapi3.Schema) []string {
	seen := map[string]bool{}
	var walk func(s *openapi3.Schema)
	walk = func(s *openapi3.Schema) {
		for n := range s.Properties {
			seen[n] = true
		}
		for _, sub := range s.AllOf {
			walk(sub.Value)
		}
	}
	walk(s)
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func propertySchema(s *openapi3.Schema, name string) *openapi3.Schema {
	if p, ok := s.Properties[name]; ok {
		return p.Value
	}
	for _, sub := range s.AllOf {
		if p := propertySchema(sub.Value, name); p != nil {
			return p
		}
	}
	return nil
}

// valuesFor gives the hostile and boundary values for a value of schema s.
func valuesFor(s *openapi3.Schema) map[string]any {
	v := map[string]any{
		"null": nil, "object": map[string]any{"x": 1}, "array": []any{1}, "NUL": "a\u0000b",
		"invalid UTF-8": invalidUTF8,
	}
	if s == nil {
		return v
	}
	switch {
	case s.Type.Is(openapi3.TypeString):
		long := 10_001
		if s.MaxLength != nil {
			long = int(*s.MaxLength) + 1
		}
		for label, x := range map[string]any{
			"control character": "a\u0001b", "DEL and C1": "a\u007f\u0085b", "line break": "a\nb", "empty": "",
			"spaces": "   ", "hair space": "\u200a", "zero-width space": "\u200b", "NBSP": "\u00a0",
			"overlong": strings.Repeat("x", long), "overlong multibyte": strings.Repeat("é", long),
			"number": 12345, "boolean": true, "emoji": "😀",
			"year 0": "0000-01-01", "year 9999": "9999-12-31", "30 February": "2025-02-30",
			"year 0 instant": "0000-01-01T00:00:00Z", "padded": "  padded  ",
		} {
			v[label] = x
		}
		for i, e := range s.Enum {
			if i == 0 {
				v["enum with spaces"] = fmt.Sprintf(" %v ", e)
			}
		}
	case s.Type.Is(openapi3.TypeInteger):
		for label, x := range map[string]any{
			"huge": json.Number("1e30"), "beyond int64": json.Number("9223372036854775808"), "int64 max": json.Number("9223372036854775807"),
			"below int64": json.Number("-9223372036854775809"), "negative": -1, "fraction": 1.5, "whole float": json.Number("1.0"),
			"string": "12", "boolean": false, "exponent": json.Number("1e3"),
		} {
			v[label] = x
		}
		if s.Max != nil {
			v["maximum + 1"] = json.Number(fmt.Sprintf("%.0f", *s.Max+1))
		}
		if s.Min != nil {
			v["minimum - 1"] = json.Number(fmt.Sprintf("%.0f", *s.Min-1))
		}
	case s.Type.Is(openapi3.TypeBoolean):
		v["string"], v["number"] = "true", 0
	case s.Type.Is(openapi3.TypeArray):
		v["string"], v["with null"] = "x", []any{nil}
	case s.Type.Is(openapi3.TypeObject):
		v["string"], v["empty"] = "x", map[string]any{}
	}
	return v
}

// csvHostileCases are the requests of an operation whose body is a CSV file (a statement): its
// parameters, with and without the Idempotency-Key it needs, and hostile files.
func csvHostileCases(where, method, filled string, op *openapi3.Operation, params openapi3.Parameters, headers [][2]string) []hostileCase {
	var out []hostileCase
	example, _ := op.RequestBody.Value.Content.Get("text/csv").Example.(string)
	key := func() [][2]string {
		return append(append([][2]string{}, headers...), [2]string{"Idempotency-Key", uuid.NewString()})
	}
	add := func(name, target, ctype string, body []byte, hdr [][2]string) {
		out = append(out, hostileCase{name: where + " " + name, method: method, path: target, body: body, ctype: ctype, header: hdr})
	}
	base := filled + "?format=bank"
	for _, p := range params {
		pv := p.Value
		switch pv.In {
		case "query":
			for label, v := range valuesFor(pv.Schema.Value) {
				q := url.Values{}
				str := fmt.Sprint(v)
				if sv, ok := v.(string); ok {
					str = sv
				}
				q.Set(pv.Name, str)
				if pv.Name != "format" {
					q.Set("format", "mapped")
				}
				target := filled + "?" + strings.ReplaceAll(q.Encode(), "%EE%80%80invalid-utf8%EE%80%80", "%FF%FE")
				add("query "+pv.Name+" "+label, target, "text/csv", []byte(example), key())
			}
		case "path":
			for _, bad := range []string{"a%00b", "%FF%FE", "not-a-uuid", "00000000-0000-0000-0000-000000000000", "0190b6a2-4c1e-7d3a-9f10-5b2c8e7a1d99"} {
				parts := strings.Split(base, "/")
				parts[3] = bad // /v1/direct-payment-accounts/{account_id}/statements
				add("path "+pv.Name+" "+bad, strings.Join(parts, "/"), "text/csv", []byte(example), key())
			}
		case "header":
			for _, bad := range []string{"", "x", `"abc"`, "\x01\x02", strings.Repeat("k", 300)} {
				add("header "+pv.Name+" "+fmt.Sprintf("%q", bad), base, "text/csv", []byte(example), [][2]string{{pv.Name, bad}})
			}
		}
	}
	add("no body", base, "text/csv", nil, key())
	add("no key", base, "text/csv", []byte(example), headers)
	for label, body := range map[string]string{
		"empty":               "",
		"invalid UTF-8":       "\xff\xfe",
		"a header only":       "date,description,amount\n",
		"the wrong header":    "when,what,how much\n2026-05-01,x,-1.00\n",
		"invalid UTF-8 line":  "date,description,amount\n2026-05-01,\xff\xfe,-1.00\n",
		"a NUL":               "date,description,amount\n2026-05-01,a\x00b,-1.00\n",
		"a bare quote":        "date,description,amount\n2026-05-01,a\"b,-1.00\n",
		"an amount too big":   "date,description,amount\n2026-05-01,x,-99999999999999.00\n",
		"a date out of range": "date,description,amount\n9999-99-99,x,-1.00\n",
		"too many fields":     "date,description,amount\n2026-05-01,x,-1.00,4,5\n",
		"a huge field":        "date,description,amount\n2026-05-01," + strings.Repeat("x", 5000) + ",-1.00\n",
		"dates out of order":  "date,description,amount\n2026-05-02,x,-1.00\n2026-05-01,x,-1.00\n2026-05-03,x,-1.00\n",
	} {
		add("body "+label, base, "text/csv", []byte(body), key())
	}
	for _, mt := range []string{"text/plain", "application/json"} {
		add("content type "+mt, base, mt, []byte(example), key())
	}
	return out
}
