// Command complete is the load benchmark of assessment completion: it prepares n people with a
// draft needs assessment each (eligible, with RAS answers), then completes them all with c
// concurrent clients against a running pbudget, and prints throughput and latency percentiles of
// the completions alone. Each completion decides eligibility, scores the RAS, issues an indicative
// budget and writes the assessment, the budget, its version and three audit events in one
// transaction. With -op fa it completes financial assessments instead, with -op approve it
// approves submitted support plans. It is part of .ci/bench, not of the service.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:18080", "pbudget base URL")
	n := flag.Int("n", 3000, "assessments to complete")
	c := flag.Int("c", 16, "concurrent clients")
	op := flag.String("op", "assessment", "the command measured: assessment (completion), fa (financial-assessment completion) or approve (plan approval)")
	statsReset := flag.String("reset", "", "a shell command run after the setup and before the measured commands (make bench resets pg_stat_statements)")
	flag.Parse()
	token := os.Getenv("TOKEN")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *c * 2}, Timeout: 30 * time.Second}
	call := func(method, path string, body any, ifMatch string) (int, []byte, time.Duration) {
		var reader io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			reader = bytes.NewReader(raw)
		}
		req, _ := http.NewRequest(method, *base+path, reader)
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, out, time.Since(start)
	}

	outcomes := []map[string]any{}
	for _, o := range []string{"nutrition", "personal_hygiene", "toilet_needs", "being_clothed", "home_safety",
		"habitable_home", "relationships", "work_training_education_volunteering", "community_facilities", "caring_for_child"} {
		rec := map[string]any{"outcome": o, "unable": false}
		if o == "nutrition" || o == "personal_hygiene" || o == "being_clothed" {
			rec = map[string]any{"outcome": o, "unable": true, "reasons": []string{"needs_assistance"}}
		}
		outcomes = append(outcomes, rec)
	}
	draft := map[string]any{
		"type": "needs", "impairment_or_illness": true, "significant_wellbeing_impact": true, "outcomes": outcomes,
		"ras_answers": map[string]string{"washing": "substantial", "dressing": "some", "toileting": "some", "meals": "total",
			"home": "some", "community": "substantial", "contact": "independent"},
	}

	type target struct{ path, tag string }
	mustCreate := func(path string, body any, ifMatch string, want int) ([]byte, string) {
		var reader io.Reader
		if body != nil {
			raw, _ := json.Marshal(body)
			reader = bytes.NewReader(raw)
		}
		r, _ := http.NewRequest(http.MethodPost, *base+path, reader)
		r.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			r.Header.Set("Content-Type", "application/json")
		}
		if ifMatch != "" {
			r.Header.Set("If-Match", ifMatch)
		}
		resp, err := client.Do(r)
		if err != nil {
			log.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			log.Fatalf("%s: %d %s", path, resp.StatusCode, out)
		}
		return out, resp.Header.Get("ETag")
	}
	idOf := func(raw []byte, field string) string {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			log.Fatalf("not JSON: %s", raw)
		}
		s, _ := m[field].(string)
		return s
	}
	financial := map[string]any{
		"kind": "full", "effective_date": "2025-06-01", "household": "single",
		"disability_premium": true, "enhanced_disability_premium": true,
		"income":                     []any{map[string]any{"type": "other_benefit", "weekly_pence": 42_000}},
		"capital":                    []any{map[string]any{"type": "savings", "value_pence": 1_610_000}},
		"housing_costs_weekly_pence": 2_500, "dre_method": "individual",
		"dre": []any{map[string]any{"description": "extra laundry and heating", "weekly_pence": 2_000}},
	}
	names := map[string]string{"assessment": "complete_assessment", "fa": "complete_financial_assessment", "approve": "approve_plan"}
	if names[*op] == "" {
		log.Fatalf("-op: %q is not assessment, fa or approve", *op)
	}
	// Setup, not measured: what each command needs, one per command.
	targets := make([]target, *n)
	parallel(*n, *c, func(i int) {
		raw, _ := mustCreate("/v1/people", map[string]any{"given_name": "Load", "family_name": "Test",
			"date_of_birth": "1960-01-01", "person_type": "adult"}, "", 201)
		personID := idOf(raw, "id")
		if *op == "fa" {
			raw, tag := mustCreate("/v1/people/"+personID+"/financial-assessments", financial, "", 201)
			targets[i] = target{"/v1/financial-assessments/" + idOf(raw, "id") + "/complete", tag}
			return
		}
		raw, tag := mustCreate("/v1/people/"+personID+"/assessments", draft, "", 201)
		assessment := "/v1/assessments/" + idOf(raw, "id") + "/complete"
		if *op == "assessment" {
			targets[i] = target{assessment, tag}
			return
		}
		raw, _ = mustCreate(assessment, map[string]any{}, tag, 200)
		budgetID := idOf(raw, "budget_id")
		raw, tag = mustCreate("/v1/people/"+personID+"/financial-assessments", financial, "", 201)
		mustCreate("/v1/financial-assessments/"+idOf(raw, "id")+"/complete", nil, tag, 200)
		st, braw, _ := call("GET", "/v1/personal-budgets/"+budgetID, nil, "")
		if st != 200 {
			log.Fatalf("budget: %d %s", st, braw)
		}
		startDate := idOf(braw, "start_date")
		day, err := time.Parse("2006-01-02", startDate)
		if err != nil {
			log.Fatalf("budget start %q", startDate)
		}
		raw, tag = mustCreate("/v1/personal-budgets/"+budgetID+"/support-plans", map[string]any{
			"what_is_important": "staying at home", "staying_in_control": "my sister is the emergency contact",
			"outcomes": []any{map[string]any{"description": "wash and dress every morning", "assessed_needs": []string{"personal_hygiene"}}},
		}, "", 201)
		planID := idOf(raw, "id")
		_, tag = mustCreate("/v1/support-plans/"+planID+"/lines", map[string]any{
			"category": "home_care", "description": "home care", "unit_cost_pence": 2000, "unit": "hour", "quantity": "1",
			"frequency": "per_week", "start_date": day.Format("2006-01-02"), "end_date": day.AddDate(1, 0, 0).Format("2006-01-02"),
			"management_option": "council_managed", "meets_needs": []string{"personal_hygiene"},
		}, tag, 201)
		_, tag = mustCreate("/v1/support-plans/"+planID+"/submit", nil, tag, 200)
		targets[i] = target{"/v1/support-plans/" + planID + "/approve", tag}
	})
	var body any // financial-assessment completion takes no body
	if *op == "assessment" {
		body = map[string]any{}
	}
	if *op == "approve" {
		body = map[string]any{"checks": map[string]any{
			"specific_and_personal": true, "clear_and_detailed": true, "legal": true, "person_in_control": true,
			"meets_assessed_needs": true, "risks_managed": true, "within_budget": true, "healthy_safe_well": true,
			"management_option_chosen": true, "contingency_plan": true,
		}, "difference_reason": "the plan costs what the person chose"}
	}
	if *op == "approve" { // signed off by another user than the one who submitted
		if t := os.Getenv("APPROVER_TOKEN"); t != "" {
			token = t
		}
	}
	if *statsReset != "" { // the statements of the commands alone are counted
		if out, err := exec.Command("sh", "-c", *statsReset).CombinedOutput(); err != nil {
			log.Fatalf("reset: %v %s", err, out)
		}
	}

	// Measured: the commands.
	lat := make([]time.Duration, *n)
	var failed atomic.Int64
	start := time.Now()
	parallel(*n, *c, func(i int) {
		st, out, d := call("POST", targets[i].path, body, targets[i].tag)
		if st != 200 {
			if failed.Add(1) == 1 {
				log.Printf("%s: %d %s", *op, st, out)
			}
		}
		lat[i] = d
	})
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("%s %d in %.2fs: %.0f/s p50 %s p90 %s p99 %s max %s failed %d (c=%d)\n",
		names[*op], *n, elapsed.Seconds(), float64(*n)/elapsed.Seconds(), pct(0.50).Round(10*time.Microsecond),
		pct(0.90).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond),
		failed.Load(), *c)
	if failed.Load() > 0 {
		os.Exit(1)
	}
}

// parallel runs f(0..n-1) on c workers.
func parallel(n, c int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}
