package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/api"
)

func findingTypes(au api.Audit) []string {
	out := []string{}
	for _, f := range au.Findings {
		out = append(out, string(f.Type))
	}
	return out
}

// An audit of an account that employs a personal assistant checks the evidence the council
// requires of them (employer's liability insurance and payroll records for every assistant):
// without insurance it finds pa_evidence_missing; with a certificate that expires inside the
// period, pa_evidence_expired; with valid items, neither. Evidence names only an assistant of the
// account's plan.
func TestAnAuditFindsAPersonalAssistantsMissingOrExpiredEvidence(t *testing.T) {
	t.Parallel()
	b, c := payBundle(t, "2026-04-01")
	pa := b.newPerson(map[string]any{"given_name": "Sam", "family_name": "Carer", "date_of_birth": "1985-03-02"})
	f := b.agreements(agreementSpec{start: "2026-04-06", assistant: &pa.Id})
	for _, day := range []string{"2026-04-06", "2026-05-04", "2026-06-01"} {
		b.pay(b.createRun(day))
	}
	path := b.accountPath(f.dp.Id)
	c.Set("2026-06-30")
	b.scheduleAudits()
	as := b.auditsOf(f.dp.Id, "due")
	require.Len(t, as, 1)
	au := b.mustAct(as[0], map[string]any{"action": "request_evidence", "items": []any{
		map[string]any{"kind": "insurance_certificate", "description": "the employer's liability insurance for the personal assistant"}}})
	au = b.mustAct(au, map[string]any{"action": "receive_evidence"})
	evidence := func(assistant uuid.UUID, kind, validUntil string) *resp {
		body := map[string]any{"audit_id": au.Id, "personal_assistant_id": assistant, "kind": kind, "reference": "dms://pa/" + kind,
			"sha256": strings.Repeat("ab", 32), "document_date": "2026-04-01"}
		if validUntil != "" {
			body["valid_until"] = validUntil
		}
		return b.do(http.MethodPost, path+"/evidence", b.token("auditor"), body, "Idempotency-Key", uuid.NewString())
	}

	// Evidence about someone who is not an assistant of the plan is refused, and writes nothing.
	stranger := b.newPerson(nil)
	before := b.counts()
	for name, id := range map[string]uuid.UUID{"a person of the council": stranger.Id, "the person themself": f.budget.PersonId, "nobody": uuid.New()} {
		r := evidence(id, "insurance_certificate", "")
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", name, r.Body)
		require.Equal(t, "urn:pbudget:problem:evidence-personal-assistant", r.problem(t).Type, name)
	}
	require.Equal(t, before, b.counts())

	// Nothing held: the insurance and the payroll records are missing.
	au = b.mustAct(au, map[string]any{"action": "reconcile"})
	require.Contains(t, findingTypes(au), "pa_evidence_missing")
	require.NotContains(t, findingTypes(au), "pa_evidence_expired")

	// Payroll records, and a certificate that expired on 1 June, inside the period (its last day
	// is 28 June): expired, no longer missing.
	r := evidence(pa.Id, "payroll_record", "")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var item api.EvidenceItem
	r.decode(t, &item)
	require.Equal(t, pa.Id, item.PersonalAssistantId.MustGet())
	r = evidence(pa.Id, "insurance_certificate", "2026-06-01")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	au = b.mustAct(au, map[string]any{"action": "reconcile"})
	require.Contains(t, findingTypes(au), "pa_evidence_expired")
	require.NotContains(t, findingTypes(au), "pa_evidence_missing")
	for _, fd := range au.Findings {
		if fd.Type == "pa_evidence_expired" {
			require.Equal(t, 1, fd.Count)
			require.NotContains(t, fd.Detail, "Sam", "assistants are counted, never named")
		}
	}

	// The renewed certificate, valid past the period: neither finding.
	r = evidence(pa.Id, "insurance_certificate", "2027-06-01")
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	au = b.mustAct(au, map[string]any{"action": "reconcile"})
	require.NotContains(t, findingTypes(au), "pa_evidence_missing")
	require.NotContains(t, findingTypes(au), "pa_evidence_expired")

	// The account's evidence list shows whom each item concerns.
	var list api.EvidenceItemList
	r = b.do(http.MethodGet, path+"/evidence", b.token("auditor"), nil)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	r.decode(t, &list)
	require.Len(t, list.Items, 3)
}

// An account without personal assistants has no PA evidence findings.
func TestAnAuditOfAnAccountWithoutPersonalAssistantsFindsNoPAEvidenceMissing(t *testing.T) {
	t.Parallel()
	b, _ := payBundle(t, "2026-04-01")
	_, au := b.concludedAudit(175_000, map[string]any{"kind": "satisfactory", "reason": "The account was kept as agreed."})
	require.NotContains(t, findingTypes(au), "pa_evidence_missing")
}
