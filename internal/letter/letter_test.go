package letter

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/account"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/dpaudit"
	"github.com/pbudget/pbudget/internal/golden"
	"github.com/pbudget/pbudget/internal/recovery"
)

func d(y, m, day int) date.Date { return date.Of(y, time.Month(m), day) }

// cp1252 decodes the few bytes above 0x7f that letters use; Latin-1 for the rest.
var cp1252 = map[byte]rune{0x96: '–', 0x92: '’', 0x95: '•', 0xa3: '£', 0xb7: '·', 0xd7: '×'}

// text extracts the text of an uncompressed fpdf PDF: every (string) shown with Tj, in order,
// one per line. fpdf escapes \, ( and ) with a backslash.
func text(pdf []byte) string {
	var out strings.Builder
	for rest := pdf; ; {
		i := bytes.Index(rest, []byte("BT "))
		if i < 0 {
			break
		}
		rest = rest[i:]
		end := bytes.Index(rest, []byte(" ET"))
		seg := rest[:end]
		rest = rest[end:]
		for {
			open := bytes.IndexByte(seg, '(')
			if open < 0 {
				break
			}
			var s []rune
			j := open + 1
			for ; j < len(seg) && seg[j] != ')'; j++ {
				c := seg[j]
				if c == '\\' {
					j++
					c = seg[j]
				}
				if r, ok := cp1252[c]; ok {
					s = append(s, r)
				} else {
					s = append(s, rune(c))
				}
			}
			out.WriteString(string(s))
			out.WriteByte('\n')
			seg = seg[j+1:]
		}
	}
	return out.String()
}

// auditLetter is the year of dpaudit's tests concluded with a recovery by offset: £1,000 over the
// contingency, one misspend, a contribution missed.
func auditLetter(t *testing.T) Letter {
	t.Helper()
	p := dpaudit.Period{Start: d(2026, 4, 6), End: d(2027, 4, 5)}
	in := dpaudit.ReconcileInput{Period: p, Opening: account.Opening{Date: p.Start}}
	for k := range 13 {
		day := p.Start.AddDays(28 * k)
		in.Entries = append(in.Entries,
			account.Entry{Kind: account.CouncilPayment, Date: day, Amount: 140_000},
			account.Entry{Kind: account.ContributionDue, Date: day, Amount: 8_000},
			account.Entry{Kind: account.Spend, Date: day.AddDays(3), Amount: 112_000})
		if k != 5 {
			in.Entries = append(in.Entries, account.Entry{Kind: account.ContributionReceived, Date: day.AddDays(1), Amount: 8_000})
		}
	}
	closing := int64(380_000)
	in.StatementClosing = &closing
	r, err := dpaudit.ReconcilePeriod(in)
	require.NoError(t, err)
	s, err := dpaudit.ComputeSurplus(dpaudit.SurplusInput{Closing: r.Closing(), WeeklyPayment: 35_000, ContingencyWeeks: 8,
		ContributionsReceived: r.ContributionsReceived, CouncilPayments: r.CouncilPayments})
	require.NoError(t, err)
	findings := dpaudit.Findings(dpaudit.FindingsInput{Period: p, Reconciliation: r,
		Flagged: []dpaudit.FlaggedLine{{Flag: account.ExcludedCategory, Amount: 2_000}}})
	outcome, err := dpaudit.DefaultSettings().CheckOutcome(dpaudit.Outcome{Kind: dpaudit.RecoveryOutcome,
		Reason: "The account holds more than the eight weeks of payments our policy allows you to keep."}, d(2027, 5, 10))
	require.NoError(t, err)
	prop, err := recovery.Propose(recovery.Proposal{Basis: recovery.Surplus, Amount: s.CouncilShare, CouncilShare: s.CouncilShare,
		PersonExcess: s.PersonShare, Excess: recovery.Refund, Method: recovery.Offset, Cycles: 3,
		Reason: "The balance is above the contingency: the council's share of the surplus is returned to the council."})
	require.NoError(t, err)
	offsets, err := recovery.PlanOffsets(prop.Amount, prop.Cycles, []int64{140_000, 140_000, 140_000})
	require.NoError(t, err)
	l, err := Audit(AuditInput{Council: "Example Borough Council", Date: d(2027, 5, 10), Reference: "DP-000123",
		Footer: "Adult Social Care, Direct Payments Team", Contact: "the Direct Payments Team",
		Period: p, Outcome: outcome, Reconciliation: r, Surplus: &s, Findings: findings,
		Recovery: &AuditRecovery{Proposal: prop, Offsets: &offsets}})
	require.NoError(t, err)
	return l
}

func TestAnAuditLetterSaysTheOutcomeTheFiguresAndTheRecoveryInPlainEnglish(t *testing.T) {
	t.Parallel()
	pdf, err := Render(auditLetter(t))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
	txt := text(pdf)
	golden.Check(t, "audit_letter.txt", []byte(txt))
	golden.Check(t, "audit_letter.pdf", pdf)
	for _, want := range []string{
		"Our reason: The account holds more than the eight weeks of payments our policy allows you to keep.",
		"£1,000.00", "Why: The balance is above the contingency", "Local Government and Social Care Ombudsman", "DP-000123",
	} {
		require.Contains(t, strings.ReplaceAll(txt, "\n", " "), want)
	}
}

func TestTheSameLetterIsTheSameBytes(t *testing.T) {
	t.Parallel()
	a, err := Render(auditLetter(t))
	require.NoError(t, err)
	b, err := Render(auditLetter(t))
	require.NoError(t, err)
	require.Equal(t, a, b)
	require.Contains(t, string(a), "/CreationDate (D:20270510000000)")
	require.Contains(t, string(a), "/Producer (pbudget)")
}

func TestEachOutcomeHasItsLetter(t *testing.T) {
	t.Parallel()
	weeks := 4
	for _, o := range []dpaudit.Outcome{
		{Kind: dpaudit.Satisfactory},
		{Kind: dpaudit.ActionPlan, ActionPlanDue: d(2027, 8, 1)},
		{Kind: dpaudit.SuspendPayments, SuspendFrom: d(2027, 6, 1)},
		{Kind: dpaudit.Terminate, NoticeWeeks: &weeks, Ends: d(2027, 6, 7)},
	} {
		o.Reason = "A reason long enough to say why this was decided."
		l, err := Audit(AuditInput{Council: "Example Borough Council", Date: d(2027, 5, 10), Reference: "DP-1",
			Period: dpaudit.Period{Start: d(2026, 4, 6), End: d(2027, 4, 5)}, Outcome: o})
		require.NoError(t, err, o.Kind)
		pdf, err := Render(l)
		require.NoError(t, err)
		txt := strings.ReplaceAll(text(pdf), "\n", " ")
		require.Contains(t, txt, "Our reason: A reason long enough", o.Kind)
		require.Contains(t, txt, "We found no problems.")
	}
	_, err := Audit(AuditInput{Council: "C", Date: d(2027, 5, 10), Reference: "R", Outcome: dpaudit.Outcome{Kind: "warning"}})
	require.ErrorIs(t, err, ErrLetter)
}

func TestALetterThatCannotBePrintedIsRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	_, err := Render(Letter{Council: "C", Heading: "H", Reference: "R", Date: d(2027, 5, 10),
		Sections: []Section{{Paragraphs: []string{"one\ntwo"}}}})
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "/sections/0/paragraphs/0", ae.Fields[0].Field)
	_, err = Render(Letter{Heading: "H", Reference: "R", Date: d(2027, 5, 10)})
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "/council", ae.Fields[0].Field)
}

// A real PDF reader finds the same words (poppler's pdftotext, when the machine has it: apt-get
// install poppler-utils); the golden text above is read by this package's own extractor.
func TestAPDFReaderReadsTheLetter(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext is not installed")
	}
	pdf, err := Render(auditLetter(t))
	require.NoError(t, err)
	cmd := exec.Command(bin, "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	require.NoError(t, err)
	got := strings.Join(strings.Fields(string(out)), " ")
	for _, line := range strings.Split(strings.TrimSpace(text(pdf)), "\n") {
		require.Contains(t, got, strings.Join(strings.Fields(line), " "))
	}
}
