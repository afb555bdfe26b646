package account

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/apperr"
)

var (
	paLine       = uuid.NewSHA1(uuid.Nil, []byte("pa"))
	agencyLine   = uuid.NewSHA1(uuid.Nil, []byte("agency"))
	activityLine = uuid.NewSHA1(uuid.Nil, []byte("activity"))
	gymLine      = uuid.NewSHA1(uuid.Nil, []byte("gym"))
)

func matcher(t *testing.T) *Matcher {
	t.Helper()
	m, err := NewMatcher([]PlanLine{
		{ID: paLine, Category: "personal_assistant", PersonalAssistants: []string{"Jo Bloggs"}},
		{ID: agencyLine, Category: "home_care", Providers: []string{"Bright Care Ltd"}, ProviderReferences: []string{"BC-4411"}},
		{ID: activityLine, Category: "day_activities", Payees: []string{"Riverside Arts Centre"}},
		{ID: gymLine, Category: "leisure"},
	}, Rules{
		ExcludedCategories:     []string{"7995", "5813"},
		CategoryOfMerchant:     map[string]string{"7997": "leisure", "5411": "groceries", "7832": "leisure"},
		CouncilReferences:      []string{"PBDP"},
		ContributionReferences: []string{"CONTRIB 0042"},
		Extra:                  []Rule{{By: ByPayee, Text: "RIVERSIDE ARTS", PlanLineID: activityLine, Whole: true}},
	})
	require.NoError(t, err)
	return m
}

func TestSpendingIsMatchedToAPlanLineOrFlagged(t *testing.T) {
	t.Parallel()
	m := matcher(t)
	tests := []struct {
		name string
		line Line
		plan uuid.UUID
		by   By
		flag Flag
	}{
		{"the payee's name, normalised", Line{Amount: -3000, Description: "riverside arts-centre"}, activityLine, ByPayee, ""},
		{"the payee's name inside a longer description is not the payee", Line{Amount: -3000, Description: "RIVERSIDE ARTS CENTRE CAFE"}, uuid.Nil, "", Unexplained},
		{"an auditor's extra rule", Line{Amount: -3000, Description: "Riverside Arts"}, activityLine, ByPayee, ""},
		{"the assistant's name in a transfer", Line{Amount: -12000, Description: "FP JO BLOGGS WAGES"}, paLine, ByPersonalAssistant, ""},
		{"the assistant's name in the reference", Line{Amount: -12000, Description: "STANDING ORDER", Reference: "Jo Bloggs"}, paLine, ByPersonalAssistant, ""},
		{"part of a name is not the name", Line{Amount: -12000, Description: "JOE BLOGGS"}, uuid.Nil, "", Unexplained},
		{"the provider's reference", Line{Amount: -50000, Description: "DD 123", Reference: "INV BC-4411 MAY"}, agencyLine, ByProviderReference, ""},
		{"the provider's name", Line{Amount: -50000, Description: "BRIGHT CARE LTD"}, agencyLine, ByProvider, ""},
		{"a merchant category mapped to a plan line's category", Line{Amount: -2500, Description: "PUREGYM", MerchantCategory: "7997"}, gymLine, ByCategory, ""},
		{"a merchant category the plan does not include", Line{Amount: -1200, Description: "TESCO", MerchantCategory: "5411"}, uuid.Nil, "", NotInPlan},
		{"an excluded merchant category", Line{Amount: -2000, Description: "BETFRED", MerchantCategory: "7995"}, uuid.Nil, "", ExcludedCategory},
		{"an excluded category wins over a payee", Line{Amount: -2000, Description: "RIVERSIDE ARTS CENTRE", MerchantCategory: "5813"}, uuid.Nil, "", ExcludedCategory},
		{"an unmapped merchant category", Line{Amount: -999, Description: "SHOP", MerchantCategory: "5999"}, uuid.Nil, "", Unexplained},
		{"nothing known", Line{Amount: -999, Description: "CASH WITHDRAWAL"}, uuid.Nil, "", Unexplained},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := m.Match(tt.line)
			require.Equal(t, Spend, got.Kind)
			require.True(t, got.Post)
			require.Equal(t, tt.plan, got.PlanLineID)
			require.Equal(t, tt.by, got.By)
			require.Equal(t, tt.flag, got.Flag)
			require.NotEmpty(t, got.Reason)
		})
	}
}

func TestMoneyInIsTheCouncilsPaymentAContributionARefundOrUnexplained(t *testing.T) {
	t.Parallel()
	m := matcher(t)
	tests := []struct {
		name string
		line Line
		kind Kind
		post bool
		flag Flag
	}{
		{"the council's payment is already in the ledger", Line{Amount: 140000, Description: "COUNCIL", Reference: "PBDP 000123"}, CouncilPayment, false, ""},
		{"the person's contribution", Line{Amount: 2000, Description: "CONTRIB 0042"}, ContributionReceived, true, ""},
		{"a refund from a provider", Line{Amount: 500, Description: "BRIGHT CARE LTD REFUND"}, Refund, true, ""},
		{"money from nowhere known", Line{Amount: 500, Description: "TRANSFER"}, Refund, true, Unexplained},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := m.Match(tt.line)
			require.Equal(t, tt.kind, got.Kind)
			require.Equal(t, tt.post, got.Post)
			require.Equal(t, tt.flag, got.Flag)
		})
	}
}

func TestTheFirstPlanLineWinsATieAndBadRulesAreRefused(t *testing.T) {
	t.Parallel()
	a, b := uuid.New(), uuid.New()
	m, err := NewMatcher([]PlanLine{{ID: a, PersonalAssistants: []string{"Sam Lee"}}, {ID: b, PersonalAssistants: []string{"Sam Lee"}}}, Rules{})
	require.NoError(t, err)
	require.Equal(t, a, m.Match(Line{Amount: -1, Description: "SAM LEE"}).PlanLineID)

	_, err = NewMatcher(nil, Rules{ExcludedCategories: []string{"799"}, CategoryOfMerchant: map[string]string{"7997": ""},
		Extra: []Rule{{By: ByCategory, Text: "x", PlanLineID: a}, {By: ByPayee, Text: "x"}}})
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	var fields []string
	for _, f := range ae.Fields {
		fields = append(fields, f.Field)
	}
	require.Equal(t, []string{"/excluded_categories/0", "/category_of_merchant/7997", "/extra/0", "/extra/1"}, fields)
}

func TestAStatedClosingBalanceIsComparedWithTheLedger(t *testing.T) {
	t.Parallel()
	day := d(2026, 4, 30)
	require.Equal(t, ClosingCheck{On: day, Stated: 1000, Ledger: 1000, Agrees: true,
		Detail: "The statement's balance on 2026-04-30, £10.00, agrees with the account's record."}, CheckClosing(day, 1000, 1000))
	over := CheckClosing(day, 1001, 1000)
	require.Equal(t, int64(1), over.Difference)
	require.False(t, over.Agrees)
	require.Equal(t, "The statement shows £10.01 on 2026-04-30, £0.01 more than the account's record of £10.00.", over.Detail)
	under := CheckClosing(day, 999, 1000)
	require.Equal(t, int64(-1), under.Difference)
	require.Equal(t, "The statement shows £9.99 on 2026-04-30, £0.01 less than the account's record of £10.00.", under.Detail)
}
