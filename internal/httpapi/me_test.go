package httpapi_test

import (
	"maps"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/auth"
)

// personToken mints a person-role token for the holder, whose own person id is personID.
func (b *bundle) personToken(personID uuid.UUID) string {
	return b.tokenWith(auth.MintOptions{Council: b.council.Code, Roles: []string{"person"}, Person: personID.String(),
		Subject: "citizen-" + personID.String()[:8]})
}

// relate records that from is kind of to (with a family relation, when given) from start, and
// returns the relationship.
func (b *bundle) relate(from, to uuid.UUID, kind, family, start string) api.Relationship {
	b.t.Helper()
	body := map[string]any{"kind": kind, "related_person_id": to, "start_date": start}
	if family != "" {
		body["family_relation"] = family
	}
	r := b.do(http.MethodPost, "/v1/people/"+from.String()+"/relationships", b.token("practitioner"), body)
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var rel api.Relationship
	r.decode(b.t, &rel)
	return rel
}

// makeChild turns a fixture's adult into a child (the fixtures assess adults): the person role's
// parent rule reads person_type.
func (b *bundle) makeChild(p uuid.UUID) {
	b.t.Helper()
	r := b.do(http.MethodGet, "/v1/people/"+p.String(), b.token("practitioner"), nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	r = b.do(http.MethodPatch, "/v1/people/"+p.String(), b.token("practitioner"),
		map[string]any{"date_of_birth": "2015-03-01", "person_type": "child"}, "If-Match", r.Header.Get("ETag"))
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
}

// myFixture is a payment fixture with what the person's view adds: the direct payment's account
// and a statement the person uploaded to it, with a flagged line.
type myFixture struct {
	payFixture
	account  uuid.UUID // the direct payment's account
	line     uuid.UUID // a flagged statement line of it
	flag     uuid.UUID // its flag
	audit    uuid.UUID // an audit of the account (myAudit)
	letter   bool      // the audit is concluded: its letter exists (myAudit with a recovery)
	recovery uuid.UUID // a notified recovery from it
}

// myAudit opens an ad hoc audit of the fixture's direct payment (its first payment made) and asks
// for evidence; with recover, it is taken to a recovery outcome and a notified recovery of the
// council's share of the surplus by invoice.
func (b *bundle) myAudit(m *myFixture, recover bool) {
	b.t.Helper()
	r := b.do(http.MethodPost, "/v1/audits", b.token("auditor"), map[string]any{"agreement_id": m.dp.Id,
		"reason": "The balance on the card looks high for the hours in the plan."}, "Idempotency-Key", uuid.NewString())
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var au api.Audit
	r.decode(b.t, &au)
	m.audit = au.Id
	au = b.mustAct(au, map[string]any{"action": "request_evidence", "items": []any{map[string]any{"kind": "receipt", "description": "receipts for the card spending"}}})
	if !recover {
		return
	}
	au = b.mustAct(au, map[string]any{"action": "receive_evidence"})
	au = b.mustAct(au, map[string]any{"action": "reconcile", "statement_closing_pence": 500_000})
	au = b.mustAct(au, map[string]any{"action": "conclude", "outcome": map[string]any{"kind": "recovery",
		"reason": "The balance is above the eight weeks of payments the account may keep."}})
	m.letter = true
	r = b.recovery(map[string]any{"audit_id": au.Id, "basis": "surplus", "amount_pence": stepValue(b.t, au.Surplus.MustGet(), "council_share"),
		"method": "invoice", "reason": "The balance is above the eight weeks of payments the account may keep."})
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	var rc api.Recovery
	r.decode(b.t, &rc)
	m.recovery = b.recoveryAction(rc.Id, map[string]any{"action": "notify"}).Id
}

// myFixture uploads, as the fixture's person, a card statement with a line the council flags.
func (b *bundle) myFixture(f payFixture) myFixture {
	b.t.Helper()
	m := myFixture{payFixture: f, account: b.accountOf(f.dp.Id)}
	r := b.myImport(b.personToken(f.budget.PersonId), m.account, "card", cardStatement("2026-05-06", "Lucky Bets", "7995", "-20.00"))
	require.Equal(b.t, http.StatusCreated, r.Status, string(r.Body))
	m.line, m.flag = b.flagOf(m.account)
	return m
}

// myRoutes are every route of the person role that names a record, for one fixture: what the
// isolation test calls as each holder.
func myRoutes(f myFixture) []string {
	acct := "/v1/me/direct-payment-accounts/" + f.account.String()
	out := []string{
		"/v1/me/people/" + f.budget.PersonId.String() + "/personal-budgets",
		"/v1/me/personal-budgets/" + f.budget.Id.String(),
		"/v1/me/personal-budgets/" + f.budget.Id.String() + "/support-plans",
		"/v1/me/support-plans/" + f.plan.Id.String(),
		"/v1/me/people/" + f.budget.PersonId.String() + "/agreements",
		"/v1/me/agreements/" + f.dp.Id.String() + "/schedule",
		"/v1/me/people/" + f.budget.PersonId.String() + "/management-change-requests",
		"/v1/me/personal-budgets/" + f.budget.Id.String() + "/letters/indicative",
		"/v1/me/personal-budgets/" + f.budget.Id.String() + "/letters/agreed",
		"/v1/me/people/" + f.budget.PersonId.String() + "/reviews",
		"/v1/me/people/" + f.budget.PersonId.String() + "/direct-payment-accounts",
		acct,
		acct + "/ledger",
		acct + "/balance",
		acct + "/flags",
		"/v1/me/people/" + f.budget.PersonId.String() + "/audits",
		"/v1/me/people/" + f.budget.PersonId.String() + "/recoveries",
	}
	if f.audit != uuid.Nil {
		out = append(out, "/v1/me/audits/"+f.audit.String())
	}
	if f.letter {
		out = append(out, "/v1/me/audits/"+f.audit.String()+"/letter")
	}
	if f.recovery != uuid.Nil {
		out = append(out, "/v1/me/recoveries/"+f.recovery.String())
	}
	return out
}

// myChanges are the person role's changes that name a record of the fixture; each is answered
// 404 to a holder who does not act for its person, and changes nothing.
func (b *bundle) myChanges(tok string, f myFixture) []*resp {
	acct := "/v1/me/direct-payment-accounts/" + f.account.String()
	out := []*resp{
		b.do(http.MethodPost, "/v1/me/direct-payment-agreements/"+f.dp.Id.String()+"/consent", tok,
			map[string]any{"consented": false, "reason": "not mine"}, "If-Match", etagOf(f.dp.Version)),
		b.do(http.MethodPost, "/v1/me/people/"+f.budget.PersonId.String()+"/review-requests", tok, map[string]any{"note": "not mine"}),
		b.myImport(tok, f.account, "card", cardStatement("2026-05-07", "Corner Shop", "5411", "-3.00")),
		b.do(http.MethodPost, acct+"/flags/"+f.flag.String()+"/answers", tok, map[string]any{"explanation": "not mine"}),
		b.do(http.MethodPost, acct+"/evidence", tok, map[string]any{"statement_line_id": f.line, "kind": "receipt",
			"reference": "portal/receipt-1.pdf", "sha256": sha256Hex("receipt"), "document_date": "2026-05-06"}),
		b.do(http.MethodPost, acct+"/evidence", tok, map[string]any{"audit_id": f.audit, "kind": "receipt",
			"reference": "portal/receipt-2.pdf", "sha256": sha256Hex("receipt 2"), "document_date": "2026-05-06"}),
	}
	if f.recovery != uuid.Nil {
		out = append(out, b.do(http.MethodPost, "/v1/me/recoveries/"+f.recovery.String()+"/dispute", tok,
			map[string]any{"grounds": "not mine to dispute"}, "Idempotency-Key", uuid.NewString()))
	}
	return out
}

// actingFor returns the people GET /v1/me lists, with their basis.
func (b *bundle) actingFor(tok string) map[uuid.UUID]string {
	b.t.Helper()
	r := b.do(http.MethodGet, "/v1/me", tok, nil)
	require.Equal(b.t, http.StatusOK, r.Status, string(r.Body))
	var me api.Me
	r.decode(b.t, &me)
	out := map[uuid.UUID]string{}
	for _, x := range me.ActingFor {
		out[x.PersonId] = string(x.Basis)
	}
	return out
}

// TestAPersonSeesOnlyThePeopleTheyActFor is the person role's isolation test, across every route
// the role may call: a person never sees another person's records; an authorised person sees
// exactly the people they act for and loses them when the relationship ends; a parent sees their
// child's direct payment and not the child's sibling's, unless they are recorded as the sibling's
// parent too. That holds for the budgets, plans, agreements and schedules, and for the direct
// payment's account (its ledger, balance, statements, flags and evidence), its audits (and their
// letters) and its recoveries (and their disputes): another's is a 404, and a change to it changes
// nothing. Staff routes are 403 to the role, another council's token sees nothing, and a token
// without the person claim is refused.
func TestAPersonSeesOnlyThePeopleTheyActFor(t *testing.T) {
	t.Parallel()
	b, clock := payBundle(t, "2026-04-20")
	ann := b.agreements(agreementSpec{start: "2026-05-04"}) // Ann receives her own direct payment
	bob := b.agreements(agreementSpec{start: "2026-05-04"}) // Bob's is paid to his authorised person, Ann's friend Carol
	kid := b.agreements(agreementSpec{start: "2026-05-04"}) // a child whose parent is Dee
	sib := b.agreements(agreementSpec{start: "2026-05-04"}) // the child's sibling
	b.makeChild(kid.budget.PersonId)
	b.makeChild(sib.budget.PersonId)
	carol := b.newPerson(map[string]any{"given_name": "Carol"})
	dee := b.newPerson(map[string]any{"given_name": "Dee"})
	apRel := b.relate(carol.Id, bob.budget.PersonId, "authorised_person_for", "", "2026-01-01")
	b.relate(dee.Id, kid.budget.PersonId, "carer_of", "parent", "2026-01-01")
	b.relate(kid.budget.PersonId, sib.budget.PersonId, "same_household_member", "sibling", "2026-01-01")
	// A parent of an adult, without an authorised-person relationship, reaches nothing of theirs.
	b.relate(dee.Id, ann.budget.PersonId, "carer_of", "parent", "2026-01-01")

	everyone := map[string]myFixture{"ann": b.myFixture(ann), "bob": b.myFixture(bob), "kid": b.myFixture(kid), "sib": b.myFixture(sib)}
	// Their first payments, an audit of each asking for evidence, and for Bob and the child an
	// audit concluded with a recovery they were notified of.
	b.pay(b.createRun("2026-05-04"))
	clock.Set("2026-05-20")
	for name, f := range everyone {
		b.myAudit(&f, name == "bob" || name == "kid")
		everyone[name] = f
	}
	check := func(tok string, sees ...string) {
		t.Helper()
		for name, f := range everyone {
			want := http.StatusNotFound
			for _, s := range sees {
				if s == name {
					want = http.StatusOK
				}
			}
			for _, path := range myRoutes(f) {
				r := b.do(http.MethodGet, path, tok, nil)
				require.Equal(t, want, r.Status, "%s: %s %s", name, path, string(r.Body))
			}
			if want == http.StatusNotFound {
				before := b.counts()
				for _, r := range b.myChanges(tok, f) {
					require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", name, string(r.Body))
				}
				r := b.do(http.MethodPost, "/v1/me/management-change-requests", tok, map[string]any{"plan_id": f.plan.Id,
					"plan_line_id": f.plan.Lines[0].Id, "requested_option": "council_managed", "reason": "not mine"})
				require.Equal(t, "urn:pbudget:problem:plan-not-found", r.problem(t).Type, "%s: another's plan is as if it did not exist", name)
				requireUnchanged(t, before, b.counts())
			}
		}
	}
	annTok, carolTok, deeTok := b.personToken(ann.budget.PersonId), b.personToken(carol.Id), b.personToken(dee.Id)
	check(annTok, "ann")
	check(carolTok, "bob")
	check(deeTok, "kid")
	check(b.personToken(kid.budget.PersonId), "kid") // a child's own token (a young person on the portal): never the sibling's
	require.Equal(t, map[uuid.UUID]string{ann.budget.PersonId: "self"}, b.actingFor(annTok))
	require.Equal(t, map[uuid.UUID]string{carol.Id: "self", bob.budget.PersonId: "authorised_person"}, b.actingFor(carolTok))
	require.Equal(t, map[uuid.UUID]string{dee.Id: "self", kid.budget.PersonId: "parent"}, b.actingFor(deeTok))

	// Recorded as the sibling's parent too (the other way round: the sibling is Dee's child), Dee sees both.
	b.relate(sib.budget.PersonId, dee.Id, "same_household_member", "child", "2026-01-01")
	check(deeTok, "kid", "sib")

	// Every read is an access record with the holder as actor: their subject and their person id.
	b.flushAccess()
	r0 := b.do(http.MethodGet, "/v1/access-records?person_id="+bob.budget.PersonId.String()+"&actor=citizen-"+carol.Id.String()[:8], b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r0.Status, string(r0.Body))
	var recs api.AccessRecordList
	r0.decode(t, &recs)
	ops := map[string]bool{}
	for _, rec := range recs.Items {
		require.Equal(t, carol.Id, *rec.Actor.PersonId)
		require.Equal(t, []string{"person"}, rec.Actor.Roles)
		ops[rec.Operation] = true
	}
	for _, op := range []string{"getMe", "listMyBudgets", "getMyBudget", "listMyPlans", "getMyPlan", "listMyAgreements", "getMySchedule",
		"listMyAccounts", "getMyAccount", "getMyLedger", "getMyBalance", "listMyFlags", "listMyAudits", "getMyAudit", "getMyAuditLetter",
		"listMyRecoveries", "getMyRecovery"} {
		require.True(t, ops[op], "no access record of %s", op)
	}

	// The authorised person's relationship ends: Carol loses Bob at once, on every route.
	r := b.do(http.MethodGet, "/v1/people/"+bob.budget.PersonId.String()+"/relationships/"+apRel.Id.String(), b.token("practitioner"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r = b.do(http.MethodPost, "/v1/people/"+bob.budget.PersonId.String()+"/relationships/"+apRel.Id.String()+"/end", b.token("practitioner"),
		map[string]any{"end_date": "2026-04-20", "reason": "Bob manages his own direct payment now"}, "If-Match", r.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	check(carolTok)
	require.Equal(t, map[uuid.UUID]string{carol.Id: "self"}, b.actingFor(carolTok))

	// Staff routes are not the person role's: 403, whatever the record.
	for _, path := range []string{"/v1/people/" + ann.budget.PersonId.String(), "/v1/personal-budgets/" + ann.budget.Id.String(),
		"/v1/support-plans/" + ann.plan.Id.String(), "/v1/direct-payment-agreements/" + ann.dp.Id.String() + "/schedule", "/v1/people",
		"/v1/direct-payment-accounts/" + everyone["ann"].account.String() + "/ledger", "/v1/audits/" + everyone["ann"].audit.String(),
		"/v1/recoveries/" + everyone["bob"].recovery.String()} {
		r := b.do(http.MethodGet, path, annTok, nil)
		require.Equal(t, http.StatusForbidden, r.Status, path)
	}
	// Staff are not the person role: the person view's routes are 403 to them.
	r = b.do(http.MethodGet, "/v1/me", b.token("practitioner", "finance", "auditor"), nil)
	require.Equal(t, http.StatusForbidden, r.Status)
	// The same person id under another council's token reaches nothing.
	other := b.tokenWith(auth.MintOptions{Council: b.other.Code, Roles: []string{"person"}, Person: ann.budget.PersonId.String()})
	r = b.do(http.MethodGet, "/v1/me", other, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	for _, path := range myRoutes(everyone["ann"]) {
		r := b.do(http.MethodGet, path, other, nil)
		require.Equal(t, http.StatusNotFound, r.Status, path)
	}
}

// requireUnchanged fails unless every table has the rows it had, but for idempotency keys that
// expired meanwhile (the payment fixtures' server runs on a clock in the past, and the periodic
// sweep deletes their keys as expired by the real clock).
func requireUnchanged(t *testing.T, before, after map[string]int64) {
	t.Helper()
	require.LessOrEqual(t, after["idempotency_keys"], before["idempotency_keys"])
	before, after = maps.Clone(before), maps.Clone(after)
	delete(before, "idempotency_keys")
	delete(after, "idempotency_keys")
	require.Equal(t, before, after)
}
