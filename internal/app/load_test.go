package app_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v4"

	"github.com/pbudget/pbudget/internal/app"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/postgres"
	"github.com/pbudget/pbudget/internal/testdb"
)

func newCouncil(t *testing.T, db *postgres.DB) string {
	t.Helper()
	var b [5]byte
	_, _ = rand.Read(b[:])
	code := "l-" + hex.EncodeToString(b[:])
	_, err := app.CreateCouncil(context.Background(), db, code, "Load Test Council", "test")
	require.NoError(t, err)
	return code
}

func file(path, text string) app.ConfigFile {
	return app.ConfigFile{Path: path, Data: []byte(strings.TrimLeft(text, "\n"))}
}

// count runs a count(*) query scoped to the council with code ($1).
func count(t *testing.T, db *postgres.DB, code, from string) int {
	t.Helper()
	var n int
	require.NoError(t, db.SQL().QueryRow(`SELECT count(*) FROM `+from+` x JOIN councils c ON c.id = x.council_id WHERE c.code = $1`, code).Scan(&n))
	return n
}

// state is what a load can change: the rows of the configuration and the audit trail.
func state(t *testing.T, db *postgres.DB, code string) [4]int {
	return [4]int{count(t, db, code, "rate_tables"), count(t, db, code, "ras_versions"), count(t, db, code, "service_categories"),
		count(t, db, code, "audit_events")}
}

const goodRAS = `
ras_versions:
  - assessment_type: needs
    name: Test adult RAS
    status: active
    questionnaire:
      domains:
        - key: care
          title: Care
          questions:
            - key: washing
              text: Washing
              options:
                - { key: none, label: None, points: 0 }
                - { key: all, label: All, points: 10 }
    model: { kind: points, pence_per_point: 10000 }
`

const goodTable = `
rate_tables:
  - name: Test 2031/32
    valid_from: 2031-04-07
    capital: { lower_pence: 1425000, upper_pence: 2325000 }
    tariff_step_pence: 25000
    tariff_weekly_pence_per_step: 100
    mig:
      base:
        - { household: single, age_band: age_25_to_pension_credit_age, weekly_pence: 11250 }
    minimum_weekly_charge_pence: 0
    taper_percent: 100
`

const goodCategory = `
service_categories:
  - { key: test_category, name: "  Test category  ", cld_service_type: other, dp_allowed: true, rule: none }
`

func TestLoadingTheSameFilesTwiceChangesNothingTheSecondTime(t *testing.T) {
	t.Parallel()
	db := testdb.DB(t)
	ctx := context.Background()
	code := newCouncil(t, db)
	files := []app.ConfigFile{file("ras.yaml", goodRAS), file("tables.yaml", goodTable), file("cats.yaml", goodCategory)}
	before := state(t, db, code)

	r, err := app.Load(ctx, db, code, "", files)
	require.NoError(t, err)
	require.Equal(t, 3, r.Changes())
	require.Equal(t, []app.Outcome{app.Created, app.Activated}, r.Entries[0].Outcomes)
	require.Equal(t, "ras.yaml", r.Entries[0].File)
	require.Equal(t, 2, r.Entries[0].Line)
	after := state(t, db, code)
	require.Equal(t, before[0]+1, after[0])
	require.Equal(t, before[1]+1, after[1])
	require.Equal(t, before[2]+1, after[2])
	var actors []string
	rows, err := db.SQL().Query(`SELECT DISTINCT a.actor_subject || ' ' || a.action FROM audit_events a JOIN councils c ON c.id = a.council_id
		WHERE c.code = $1 AND a.actor_subject = 'system:load' ORDER BY 1`, code)
	require.NoError(t, err)
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		actors = append(actors, s)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"system:load council_configuration.loaded", "system:load ras_version.activated",
		"system:load ras_version.created", "system:load rate_table.created", "system:load service_category.created"}, actors, "every change audited, as system:load")

	again, err := app.Load(ctx, db, code, "someone else", files)
	require.NoError(t, err)
	require.Zero(t, again.Changes())
	for _, e := range again.Entries {
		require.Equal(t, []app.Outcome{app.Unchanged}, e.Outcomes, e.What)
	}
	require.Equal(t, after, state(t, db, code), "the second load adds no row, not even an audit event")
}

func TestABadFileChangesNothingAndEveryProblemIsReportedWhereItIs(t *testing.T) {
	t.Parallel()
	db := testdb.DB(t)
	ctx := context.Background()
	code := newCouncil(t, db)
	before := state(t, db, code)

	// A good file beside a bad one: the bad one stops both.
	bad := file("bad.yaml", `
rate_tables:
  - name: Bad
    valid_from: 2031-04-07
    capital: { lower_pence: 1425000, upper_pence: 2325000 }
    tariff_step_pence: 0
    tariff_weekly_pence_per_step: 100
    mig: { base: [] }
    minimum_weekly_charge_pence: 0
    taper_percent: 101
    colour: blue
`)
	_, err := app.Load(ctx, db, code, "", []app.ConfigFile{file("good.yaml", goodRAS), bad})
	var le *app.LoadError
	require.True(t, errors.As(err, &le), "%v", err)
	got := map[string]string{}
	for _, p := range le.Problems {
		got[p.Where] = p.File + ":" + itoa(p.Line) + " " + p.Code + " " + p.Type
	}
	require.Equal(t, map[string]string{
		"rate_tables[0].tariff_step_pence": "bad.yaml:5 minimum urn:pbudget:problem:validation",
		"rate_tables[0].taper_percent":     "bad.yaml:9 maximum urn:pbudget:problem:validation",
		"rate_tables[0].colour":            "bad.yaml:10 unknown_field urn:pbudget:problem:validation",
	}, got)
	require.Contains(t, err.Error(), "nothing was changed")
	require.Equal(t, before, state(t, db, code))

	// Valid bodies the domain refuses, as the API would: the refusal of the second entry rolls back
	// the first, which had been applied.
	domain := file("domain.yaml", goodTable+`
  - name: Upside down
    valid_from: 2032-04-05
    capital: { lower_pence: 3000000, upper_pence: 2325000 }
    tariff_step_pence: 25000
    tariff_weekly_pence_per_step: 100
    mig: { base: [] }
    minimum_weekly_charge_pence: 0
    taper_percent: 100
`)
	_, err = app.Load(ctx, db, code, "", []app.ConfigFile{domain})
	require.True(t, errors.As(err, &le), "%v", err)
	require.Len(t, le.Problems, 1)
	p := le.Problems[0]
	require.Equal(t, "domain.yaml", p.File)
	require.Equal(t, 15, p.Line, "at the lower limit's key")
	require.Equal(t, "rate_tables[1].capital.lower_pence", p.Where)
	require.Equal(t, "urn:pbudget:problem:rate-table-invalid", p.Type)
	require.Equal(t, before, state(t, db, code), "the first table, valid, was rolled back with the second")
}

func TestFileProblemsOfYAMLAndOfTheFormat(t *testing.T) {
	t.Parallel()
	db := testdb.DB(t)
	ctx := context.Background()
	code := newCouncil(t, db)
	for name, tc := range map[string]struct{ text, want string }{
		"not YAML":                   {"rate_tables: [", "not valid YAML"},
		"two documents":              {"rate_tables: []\n---\nrate_tables: []\n", "one YAML document per file"},
		"a list at the top":          {"- a\n", "a configuration file is a mapping"},
		"an unknown section":         {"rate_table: []\n", "x.yaml:1:1: rate_table: yaml: unknown section"},
		"another council's file":     {"council: someone-else\n", "the file is for council someone-else"},
		"a key twice":                {"rate_tables: []\nrate_tables: []\n", "x.yaml:2:1: yaml: rate_tables appears twice"},
		"a section that is no list":  {"rate_tables: {}\n", "a section is a list of entries"},
		"an entry that is no object": {"service_categories: [3]\n", "x.yaml:1:22: service_categories[0]: type:"},
		"status missing":             {strings.Replace(goodRAS, "    status: active\n", "", 1), "ras_versions[0].status: enum: status is required"},
		"two active of one type": {goodRAS + strings.Replace(goodRAS, "ras_versions:\n", "", 1)[1:],
			"one RAS version of a type is active at a time"},
		"the same category twice": {goodCategory + strings.Replace(goodCategory, "service_categories:\n", "", 1)[1:],
			"service_categories[1].key: duplicate: service category test_category is also at x.yaml:2"},
		"a custom tag":     {"rate_tables: !foo []\n", "unsupported YAML tag !foo"},
		"billion laughs":   {laughs(), "the file expands to too many values"},
		"a float in pence": {strings.Replace(goodTable, "weekly_pence: 11250", "weekly_pence: 112.50", 1), "mig.base[0].weekly_pence: type"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := app.Load(ctx, db, code, "", []app.ConfigFile{file("x.yaml", tc.text)})
			require.ErrorContains(t, err, tc.want)
		})
	}
	// Anchors and merge keys are YAML's own ways of not repeating oneself, and work.
	merged := `
x-scale: &scale
  - { key: none, label: None, points: 0 }
  - { key: all, label: All, points: 10 }
`
	_, err := app.Load(ctx, db, code, "", []app.ConfigFile{file("x.yaml", merged)})
	require.ErrorContains(t, err, "unknown section", "anchors live in a section")
	withAnchors := strings.Replace(goodRAS, `              options:
                - { key: none, label: None, points: 0 }
                - { key: all, label: All, points: 10 }`, `              options: &scale
                - { key: none, label: None, points: 0 }
                - { key: all, label: All, points: 10 }
            - key: dressing
              text: Dressing
              options: *scale`, 1)
	r, err := app.Load(ctx, db, code, "", []app.ConfigFile{file("x.yaml", withAnchors)})
	require.NoError(t, err)
	require.Equal(t, 1, r.Changes())
}

func laughs() string {
	s := "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 1; i < 9; i++ {
		p := "a" + itoa(i-1)
		s += "a" + itoa(i) + ": &a" + itoa(i) + " [*" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + ", *" + p + "]\n"
	}
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }

// dotted writes an API problem's JSON Pointer as the loader names fields: .a.b[0].c.
func dotted(ptr string) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if _, err := strconv.Atoi(part); err == nil {
			b.WriteString("[" + part + "]")
		} else if part != "" {
			b.WriteString("." + part)
		}
	}
	return b.String()
}

// TestLoadChangesWhatTheAPIWouldAndRefusesWhatItWould: a draft's questionnaire may change, an
// active version's may not; a rate table not yet in force may change, one in force may not.
func TestLoadChangesWhatTheAPIWouldAndRefusesWhatItWould(t *testing.T) {
	t.Parallel()
	db := testdb.DB(t)
	ctx := context.Background()
	code := newCouncil(t, db)
	draft := strings.Replace(goodRAS, "status: active", "status: draft", 1)
	_, err := app.Load(ctx, db, code, "", []app.ConfigFile{file("ras.yaml", draft), file("t.yaml", goodTable)})
	require.NoError(t, err)

	changed := strings.Replace(draft, "pence_per_point: 10000", "pence_per_point: 12000", 1)
	moreMIG := strings.Replace(goodTable, "weekly_pence: 11250", "weekly_pence: 11700", 1)
	r, err := app.Load(ctx, db, code, "", []app.ConfigFile{file("ras.yaml", changed), file("t.yaml", moreMIG)})
	require.NoError(t, err)
	require.Equal(t, []app.Outcome{app.Updated}, r.Entries[0].Outcomes, "a draft is changed as PATCH would")
	require.Equal(t, []app.Outcome{app.Updated}, r.Entries[1].Outcomes, "a table not yet in force is changed as PATCH would")

	r, err = app.Load(ctx, db, code, "", []app.ConfigFile{file("ras.yaml", strings.Replace(changed, "status: draft", "status: active", 1))})
	require.NoError(t, err)
	require.Equal(t, []app.Outcome{app.Activated}, r.Entries[0].Outcomes)

	_, err = app.Load(ctx, db, code, "", []app.ConfigFile{file("ras.yaml", strings.Replace(goodRAS, "pence_per_point: 10000", "pence_per_point: 9000", 1))})
	require.ErrorContains(t, err, "is active and immutable")
	require.ErrorContains(t, err, "urn:pbudget:problem:ras-version-not-draft")

	inForce := strings.Replace(goodTable, "valid_from: 2031-04-07", "valid_from: 2025-04-06", 1)
	_, err = app.Load(ctx, db, code, "", []app.ConfigFile{file("t.yaml", inForce)})
	require.ErrorContains(t, err, "urn:pbudget:problem:rate-table-in-force", "the national table from that date is in force")

	defaultOverride := `
service_categories:
  - { key: transport, name: Transport (our own), cld_service_type: long_term_community, dp_allowed: false, rule: none }
`
	r, err = app.Load(ctx, db, code, "", []app.ConfigFile{file("c.yaml", defaultOverride)})
	require.NoError(t, err)
	require.Equal(t, "in place of the default category of this key", r.Entries[0].Note)
	_, err = app.Load(ctx, db, code, "", []app.ConfigFile{file("c.yaml", strings.Replace(defaultOverride, "(our own)", "(ours)", 1))})
	require.ErrorContains(t, err, "urn:pbudget:problem:service-category-exists")
}

// TestAFileIsValidatedExactlyAsTheAPIValidatesItsBody sends the same bad bodies to the API and to
// the loader and expects the same problem type, fields and rules.
func TestAFileIsValidatedExactlyAsTheAPIValidatesItsBody(t *testing.T) {
	t.Parallel()
	db := testdb.DB(t)
	ctx := context.Background()
	code := newCouncil(t, db)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	v, err := auth.NewVerifier(ctx, auth.VerifierConfig{PublicKeys: []crypto.PublicKey{pub}, Issuer: "pbudget", Audience: "pbudget-api"})
	require.NoError(t, err)
	e, _, err := app.New(app.Options{DB: db, Verifier: v, Log: testdb.Logger()})
	require.NoError(t, err)
	token, err := auth.Mint(priv, auth.MintOptions{Subject: "t", Council: code, Roles: []string{"council_admin"}, Issuer: "pbudget", Audience: "pbudget-api", TTL: time.Hour})
	require.NoError(t, err)

	cases := []struct{ section, path, entry string }{
		{"rate_tables", "/v1/rate-tables", `{name: "", valid_from: "2031-02-30", capital: {lower_pence: -1, upper_pence: 2}, tariff_step_pence: 25000,
			tariff_weekly_pence_per_step: 100, mig: {base: [{household: single, age_band: age_18_24, weekly_pence: 1}]},
			minimum_weekly_charge_pence: 0, taper_percent: 100, extra: 1}`},
		{"rate_tables", "/v1/rate-tables", `{name: Flipped, valid_from: "2031-04-07", capital: {lower_pence: 3, upper_pence: 2}, tariff_step_pence: 25000,
			tariff_weekly_pence_per_step: 100, mig: {base: [{household: single, age_band: age_18_24, weekly_pence: 1},
			{household: single, age_band: age_18_24, weekly_pence: 2}]}, minimum_weekly_charge_pence: 0, taper_percent: 100}`},
		{"ras_versions", "/v1/ras-versions", `{assessment_type: adult, name: X, questionnaire: {domains: []}, model: {kind: points}}`},
		{"ras_versions", "/v1/ras-versions", `{assessment_type: needs, name: X, questionnaire: {domains: [{key: a, title: A, questions: [
			{key: q, text: Q, options: [{key: o, label: O, points: 5}]}]}]}, model: {kind: bands, bands: [{min_points: 1, annual_pence: 5}]}}`},
		{"service_categories", "/v1/service-categories", `{key: "Bad Key", name: X, cld_service_type: nope, dp_allowed: 1, rule: none}`},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			var node any
			require.NoError(t, yaml.Unmarshal([]byte(tc.entry), &node))
			body, err := json.Marshal(node)
			require.NoError(t, err)
			req := httptest.NewRequest(http.MethodPost, tc.path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			var problem struct {
				Type   string `json:"type"`
				Errors []struct{ Field, Code string }
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &problem), rec.Body.String())
			require.GreaterOrEqual(t, rec.Code, 400)
			var api []string
			for _, f := range problem.Errors {
				api = append(api, problem.Type+" "+dotted(f.Field)+" "+f.Code)
			}
			if len(api) == 0 {
				api = append(api, problem.Type)
			}

			entry := strings.ReplaceAll(tc.entry, "\n", " ")
			if tc.section == "ras_versions" {
				entry = strings.Replace(entry, "{", "{status: draft, ", 1)
			}
			_, err = app.Load(ctx, db, code, "", []app.ConfigFile{file("x.yaml", tc.section+":\n  - "+entry+"\n")})
			var le *app.LoadError
			require.True(t, errors.As(err, &le), "%v", err)
			var loaded []string
			for _, p := range le.Problems {
				field := strings.TrimPrefix(p.Where, tc.section+"[0]")
				if field == "" || len(problem.Errors) == 0 {
					loaded = append(loaded, p.Type)
					continue
				}
				loaded = append(loaded, p.Type+" "+field+" "+p.Code)
			}
			require.ElementsMatch(t, api, loaded, "API: %s", rec.Body.String())
		})
	}
}

// TestTheExampleOfTheDocsLoads loads the commented example of docs/configuration.md, so that the
// documentation cannot drift from the format.
func TestTheExampleOfTheDocsLoads(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/configuration.md")
	require.NoError(t, err)
	_, example, ok := strings.Cut(string(doc), "## A commented example\n\n```yaml\n")
	require.True(t, ok)
	example, _, ok = strings.Cut(example, "```")
	require.True(t, ok)
	db := testdb.DB(t)
	code := newCouncil(t, db)
	example = strings.Replace(example, "council: lincs", "council: "+code, 1)
	r, err := app.Load(context.Background(), db, code, "jo.bloggs@lincolnshire.gov.uk", []app.ConfigFile{{Path: "lincs.yaml", Data: []byte(example)}})
	require.NoError(t, err)
	require.Equal(t, 4, r.Changes())
	require.Equal(t, []app.Outcome{app.Created, app.Activated}, r.Entries[1].Outcomes)
	require.Equal(t, []app.Outcome{app.Created}, r.Entries[2].Outcomes, "the draft stays a draft")
}
