package ras

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pbudget/pbudget/internal/apperr"
)

func p64(v int64) *int64 { return &v }
func pint(v int) *int    { return &v }

// norfolk is the Norfolk children's banded RAS of DOMAIN.md, with a questionnaire whose answers
// give any score from 0 to 200 (a: 0–100 by tens, b: 0–100 by ones).
func norfolk() Version {
	var tens, ones []Option
	for i := 0; i <= 10; i++ {
		tens = append(tens, Option{Key: "t" + itoa(i), Label: "x", Points: i * 10})
	}
	for i := 0; i <= 100; i++ {
		ones = append(ones, Option{Key: "o" + itoa(i), Label: "x", Points: i})
	}
	return Version{
		AssessmentType: Child, Number: 1,
		Questionnaire: Questionnaire{Domains: []Domain{{Key: "all", Title: "All", Questions: []Question{
			{Key: "a", Text: "a", Options: tens}, {Key: "b", Text: "b", Options: ones[:20]}, {Key: "c", Text: "c", Options: ones},
		}}}},
		Model: Model{Kind: BandsModel, Bands: []Band{
			{MinPoints: 0, MaxPoints: pint(69), AnnualPence: 0},
			{MinPoints: 70, MaxPoints: pint(115), AnnualPence: 50_000},
			{MinPoints: 116, MaxPoints: pint(130), AnnualPence: 100_000},
			{MinPoints: 131, MaxPoints: pint(145), AnnualPence: 150_000},
			{MinPoints: 146, MaxPoints: pint(160), AnnualPence: 280_000},
			{MinPoints: 161, MaxPoints: pint(170), AnnualPence: 400_000},
			{MinPoints: 171, AnnualPence: 600_000},
		}},
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

// answersFor picks answers that score exactly points (0–219) on the norfolk questionnaire.
func answersFor(points int) map[string]string {
	tens := min(points/10, 10)
	rest := points - tens*10
	b := min(rest, 19)
	return map[string]string{"a": "t" + itoa(tens), "b": "o" + itoa(b), "c": "o" + itoa(rest-b)}
}

func TestBandsGiveTheirAmountAtEveryEdge(t *testing.T) {
	t.Parallel()
	v := norfolk()
	require.NoError(t, Validate(v.Questionnaire, v.Model))
	tests := []struct {
		points int
		annual int64
	}{
		{0, 0}, {69, 0}, {70, 50_000}, {115, 50_000}, {116, 100_000}, {130, 100_000}, {131, 150_000},
		{145, 150_000}, {146, 280_000}, {160, 280_000}, {161, 400_000}, {170, 400_000}, {171, 600_000},
		{185, 600_000}, {219, 600_000},
	}
	for _, tt := range tests {
		r, err := Calculate(v, answersFor(tt.points))
		require.NoError(t, err)
		require.Equal(t, tt.points, r.Points)
		require.Equal(t, tt.annual, r.AnnualPence, "%d points", tt.points)
	}
}

func pointsVersion(ppp int64, minimum, cap *int64) Version {
	return Version{
		AssessmentType: Needs, Number: 2,
		Questionnaire: Questionnaire{Domains: []Domain{
			{Key: "care", Title: "Personal care", Questions: []Question{{Key: "q1", Text: "?", Options: []Option{
				{Key: "none", Label: "none", Points: 0}, {Key: "some", Label: "some", Points: 10}, {Key: "lots", Label: "lots", Points: 20}}}}},
			{Key: "home", Title: "Home", Questions: []Question{{Key: "q2", Text: "?", Options: []Option{
				{Key: "none", Label: "none", Points: 0}, {Key: "some", Label: "some", Points: 5}}}}},
		}},
		Model: Model{Kind: PointsModel, PencePerPoint: &ppp, MinimumAnnual: minimum, MaximumAnnual: cap},
	}
}

func TestPointsTimesRateWithMinimumAndCap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		minimum *int64
		cap     *int64
		answers map[string]string
		points  int
		annual  int64
		lastTwo []string
	}{
		{"plain", nil, nil, map[string]string{"q1": "lots", "q2": "some"}, 25, 250_000, nil},
		{"below the minimum", p64(100_000), nil, map[string]string{"q1": "none", "q2": "some"}, 5, 100_000, []string{"minimum"}},
		{"exactly the minimum", p64(50_000), nil, map[string]string{"q1": "none", "q2": "some"}, 5, 50_000, nil},
		{"a penny over the cap", nil, p64(249_999), map[string]string{"q1": "lots", "q2": "some"}, 25, 249_999, []string{"cap"}},
		{"exactly the cap", nil, p64(250_000), map[string]string{"q1": "lots", "q2": "some"}, 25, 250_000, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := pointsVersion(10_000, tt.minimum, tt.cap)
			require.NoError(t, Validate(v.Questionnaire, v.Model))
			r, err := Calculate(v, tt.answers)
			require.NoError(t, err)
			require.Equal(t, tt.points, r.Points)
			require.Equal(t, tt.annual, r.AnnualPence)
			steps := map[string]bool{}
			for _, s := range r.Steps {
				steps[s.Step] = true
			}
			for _, s := range tt.lastTwo {
				require.True(t, steps[s], "step %s", s)
			}
			require.Equal(t, r.Points, r.PointsByDomain["care"]+r.PointsByDomain["home"])
		})
	}
}

func TestTheSameAnswersGiveEachVersionsOwnFigure(t *testing.T) {
	t.Parallel()
	answers := map[string]string{"q1": "some", "q2": "some"}
	r1, err := Calculate(pointsVersion(10_000, nil, nil), answers)
	require.NoError(t, err)
	r2, err := Calculate(pointsVersion(12_500, nil, nil), answers)
	require.NoError(t, err)
	require.Equal(t, int64(150_000), r1.AnnualPence)
	require.Equal(t, int64(187_500), r2.AnnualPence)
}

func TestAnswersMustFitTheQuestionnaire(t *testing.T) {
	t.Parallel()
	v := pointsVersion(10_000, nil, nil)
	_, err := Calculate(v, map[string]string{"q1": "lots", "q2": "plenty", "q9": "x"})
	require.ErrorIs(t, err, ErrAnswers)
	fields := map[string]string{}
	for _, f := range err.(*apperr.Error).Fields {
		fields[f.Field] = f.Code
	}
	require.Equal(t, map[string]string{"/ras_answers/q2": "unknown_option", "/ras_answers/q9": "unknown_question"}, fields)
	_, err = Calculate(v, map[string]string{"q1": "lots"})
	require.ErrorIs(t, err, ErrAnswers, "every question must be answered")
}

func TestValidateRefusesInconsistentDefinitions(t *testing.T) {
	t.Parallel()
	good := norfolk()
	tests := map[string]func(*Version){
		"a gap between bands":        func(v *Version) { v.Model.Bands[1].MinPoints = 71 },
		"overlapping bands":          func(v *Version) { v.Model.Bands[1].MinPoints = 69 },
		"not starting at zero":       func(v *Version) { v.Model.Bands[0].MinPoints = 1 },
		"open band before the last":  func(v *Version) { v.Model.Bands[2].MaxPoints = nil },
		"bands short of the maximum": func(v *Version) { v.Model.Bands[6].MaxPoints = pint(185) },
		"bands with a rate":          func(v *Version) { v.Model.PencePerPoint = p64(1) },
		"duplicate question keys":    func(v *Version) { v.Questionnaire.Domains[0].Questions[1].Key = "a" },
		"duplicate option keys":      func(v *Version) { v.Questionnaire.Domains[0].Questions[0].Options[1].Key = "t0" },
		"points model without rate":  func(v *Version) { v.Model = Model{Kind: PointsModel} },
		"minimum above cap": func(v *Version) {
			v.Model = Model{Kind: PointsModel, PencePerPoint: p64(1), MinimumAnnual: p64(10), MaximumAnnual: p64(9)}
		},
	}
	for name, mutate := range tests {
		v := norfolk()
		mutate(&v)
		require.ErrorIs(t, Validate(v.Questionnaire, v.Model), ErrInvalidDefinition, name)
	}
	require.NoError(t, Validate(good.Questionnaire, good.Model))
	require.Equal(t, 219, good.Questionnaire.MaxPoints())
}
