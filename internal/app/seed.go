package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/council"
	"github.com/pbudget/pbudget/internal/date"
	"github.com/pbudget/pbudget/internal/jobs"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/ras"
)

// Seed creates the demo council (code demo) with a RAS version in force for each assessment type
// and the England 2025/26 charging rate table, idempotently: what exists is left as it is.
func Seed(ctx context.Context, db *postgres.DB) (council.Council, error) {
	q, err := jobs.New(db.SQL(), slog.Default(), jobs.Config{})
	if err != nil {
		return council.Council{}, err
	}
	svc := Build(db, slog.Default(), time.Now, q)
	c, err := svc.Councils.Ensure(ctx, "demo", "Demo Council")
	if err != nil {
		return council.Council{}, err
	}
	system := actor.Actor{Subject: "system:seed", CouncilID: c.ID, CouncilCode: c.Code, Roles: []actor.Role{actor.CouncilAdmin}}
	if _, err := SeedRAS(ctx, svc, system); err != nil {
		return council.Council{}, err
	}
	if _, err := svc.Charging.CreateTable(ctx, system, England2025()); err != nil && !errors.Is(err, charging.ErrTableDate) {
		return council.Council{}, err
	}
	return c, nil
}

// SeedRAS puts the demo RAS versions in force for the actor's council where it has none of a type,
// and returns how many it added.
func SeedRAS(ctx context.Context, svc Services, a actor.Actor) (int, error) {
	added := 0
	rasService := svc.RAS
	for _, in := range demoRAS() {
		existing, err := rasService.List(ctx, a, ras.Filter{AssessmentType: in.AssessmentType}, page.Request{Size: 1})
		if err != nil {
			return added, err
		}
		if len(existing) > 0 {
			continue
		}
		v, err := rasService.Create(ctx, a, in)
		if err != nil {
			return added, err
		}
		if _, err := rasService.Activate(ctx, a, v.ID, v.Version); err != nil {
			return added, err
		}
		added++
	}
	return added, nil
}

// England2025 is the charging rate table for England 2025/26 with the figures DOMAIN.md gives:
// capital limits £14,250 and £23,250, £1 a week for every £250, the MIG for single people aged
// 18–24 and 25 to pension credit age, the disability and enhanced disability premiums, and the
// personal expenses allowance. The other MIG rows (pension age, couples, lone parents, carer
// premium, children) must be added from the DHSC circular: an assessment needing one is refused
// with mig-rate-missing rather than guessed.
func England2025() charging.RateTable {
	return charging.RateTable{
		Name: "England 2025/26 (DHSC defaults)", ValidFrom: date.Of(2025, 4, 6),
		Capital: charging.CapitalLimits{Lower: 1_425_000, Upper: 2_325_000}, TariffStep: 25_000, TariffPerStep: 100,
		MIG: charging.MIG{
			Base: []charging.MIGBase{
				{Household: charging.Single, AgeBand: charging.Age18to24, Weekly: 8_915},
				{Household: charging.Single, AgeBand: charging.Age25ToPensionAge, Weekly: 11_250},
			},
			DisabilityPremium: p64(4_965), EnhancedDisabilityPremium: p64(2_425),
		},
		MinimumCharge: 0, TaperPercent: 100, PersonalExpenses: p64(3_065),
	}
}

func p64(v int64) *int64 { return &v }
func pint(v int) *int    { return &v }

// scale is a question answered on the usual four-step scale of needing help.
func scale(key, text string, step int) ras.Question {
	return ras.Question{Key: key, Text: text, Options: []ras.Option{
		{Key: "independent", Label: "Manages without help", Points: 0},
		{Key: "some", Label: "Needs some help", Points: step},
		{Key: "substantial", Label: "Needs substantial help", Points: 2 * step},
		{Key: "total", Label: "Needs help with everything", Points: 3 * step},
	}}
}

// demoRAS returns the demo council's RAS versions: points models for adults and carers, and the
// Norfolk children's bands of DOMAIN.md section 2 for children.
func demoRAS() []ras.Input {
	adult := ras.Questionnaire{Domains: []ras.Domain{
		{Key: "personal_care", Title: "Personal care", Questions: []ras.Question{
			scale("washing", "Washing and bathing", 5), scale("dressing", "Dressing", 4), scale("toileting", "Using the toilet", 5)}},
		{Key: "nutrition", Title: "Eating and drinking", Questions: []ras.Question{scale("meals", "Preparing and eating meals", 4)}},
		{Key: "daily_living", Title: "Home and daily living", Questions: []ras.Question{
			scale("home", "Keeping the home safe and habitable", 3), scale("community", "Getting out and about", 3)}},
		{Key: "relationships", Title: "Relationships and wellbeing", Questions: []ras.Question{scale("contact", "Keeping in touch", 2)}},
	}}
	carer := ras.Questionnaire{Domains: []ras.Domain{
		{Key: "caring_role", Title: "The caring role", Questions: []ras.Question{
			scale("hours", "Hours spent caring", 4), scale("nights", "Care at night", 4)}},
		{Key: "carer_wellbeing", Title: "The carer's wellbeing", Questions: []ras.Question{
			scale("breaks", "Breaks from caring", 3), scale("health", "The carer's own health", 3)}},
	}}
	child := ras.Questionnaire{Domains: []ras.Domain{
		{Key: "health", Title: "Health and development", Questions: []ras.Question{
			scale("health", "Health needs", 20), scale("development", "Development and learning", 15)}},
		{Key: "daily_life", Title: "Daily life", Questions: []ras.Question{
			scale("care", "Personal care", 10), scale("behaviour", "Behaviour and safety", 10), scale("family", "Family support", 10)}},
	}}
	return []ras.Input{
		{AssessmentType: ras.Needs, Name: "Demo adult RAS 2026/27", Questionnaire: adult,
			Model: ras.Model{Kind: ras.PointsModel, PencePerPoint: p64(25_000), MinimumAnnual: p64(100_000), MaximumAnnual: p64(2_500_000)}},
		{AssessmentType: ras.Carer, Name: "Demo carer RAS 2026/27", Questionnaire: carer,
			Model: ras.Model{Kind: ras.PointsModel, PencePerPoint: p64(5_000), MaximumAnnual: p64(200_000)}},
		{AssessmentType: ras.Child, Name: "Demo children's RAS (Norfolk bands)", Questionnaire: child,
			Model: ras.Model{Kind: ras.BandsModel, Bands: []ras.Band{
				{MinPoints: 0, MaxPoints: pint(69), AnnualPence: 0},
				{MinPoints: 70, MaxPoints: pint(115), AnnualPence: 50_000},
				{MinPoints: 116, MaxPoints: pint(130), AnnualPence: 100_000},
				{MinPoints: 131, MaxPoints: pint(145), AnnualPence: 150_000},
				{MinPoints: 146, MaxPoints: pint(160), AnnualPence: 280_000},
				{MinPoints: 161, MaxPoints: pint(170), AnnualPence: 400_000},
				{MinPoints: 171, AnnualPence: 600_000},
			}}},
	}
}
