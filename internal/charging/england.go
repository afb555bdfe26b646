package charging

import "github.com/pbudget/pbudget/internal/date"

// The national charging figures for England, one table per financial year, from the DHSC social
// care charging circulars ("Social care charging for local authorities: YYYY to YYYY", annex) and
// the Charging Regulations 2014 they amend. They are the defaults a council's rate tables start
// from: seed loads them, and a council may raise its MIG or set higher capital limits for care at
// home in its own tables. The figures live here only, as plain values, so that they are easy to
// convert to another form (a YAML file per year, say).
//
// A row is loaded only when its figure was found in a published source; a row left out is not
// guessed: an assessment that needs it is refused with mig-rate-missing, naming the row, until the
// council adds it from the circular.

// EnglandTables returns the national tables, oldest first.
func EnglandTables() []RateTable {
	return []RateTable{England2025()}
}

// England2025 is England 2025/26, in force from 6 April 2025 (LAC(DHSC)(2025)1, "Social care
// charging for care and support 2025 to 2026: local authority circular", published 3 February
// 2025, https://www.gov.uk/government/publications/social-care-charging-for-local-authorities-2025-to-2026/social-care-charging-for-care-and-support-2025-to-2026-local-authority-circular):
//
//	capital limits                     £14,250 and £23,250 (unchanged since 2010)
//	tariff income                      £1 a week for every £250, or part of £250, between them
//	MIG, single, 18 to 24              £89.15
//	MIG, single, 25 to pension age     £112.50
//	disability premium (single)        £49.65
//	enhanced disability premium        £24.25
//	personal expenses allowance        £30.65 (care homes)
//
// These are the 2025/26 figures quoted from the circular by DOMAIN.md section 3 and by councils'
// and advisers' published schedules (for example ruils.co.uk, "2025/2026 Benefit and Minimum
// Income Guarantee rates", which links the circular). The circular's rows for pension credit age,
// couples, lone parents, the carer premium and each dependent child are not loaded: the circular's
// annex table could not be retrieved while this table was written, and these figures are public
// money, not estimates (README, "National rate tables").
func England2025() RateTable {
	return RateTable{
		Name: "England 2025/26 (DHSC defaults)", ValidFrom: date.Of(2025, 4, 6),
		Capital: CapitalLimits{Lower: 1_425_000, Upper: 2_325_000}, TariffStep: 25_000, TariffPerStep: 100,
		MIG: MIG{
			Base: []MIGBase{
				{Household: Single, AgeBand: Age18to24, Weekly: 8_915},
				{Household: Single, AgeBand: Age25ToPensionAge, Weekly: 11_250},
			},
			DisabilityPremium: pence(4_965), EnhancedDisabilityPremium: pence(2_425),
		},
		MinimumCharge: 0, TaperPercent: 100, Rounding: RoundDown, PersonalExpenses: pence(3_065),
	}
}

func pence(v int64) *int64 { return &v }
