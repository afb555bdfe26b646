// Command complete is the load benchmark of assessment completion: it prepares n people with a
// draft needs assessment each (eligible, with RAS answers), then completes them all with c
// concurrent clients against a running pbudget, and prints throughput and latency percentiles of
// the completions alone. Each completion decides eligibility, scores the RAS, issues an indicative
// budget and writes the assessment, the budget, its version and three audit events in one
// transaction. It is part of .ci/bench, not of the service.
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
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:18080", "pbudget base URL")
	n := flag.Int("n", 3000, "assessments to complete")
	c := flag.Int("c", 16, "concurrent clients")
	flag.Parse()
	token := os.Getenv("TOKEN")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *c * 2}, Timeout: 30 * time.Second}
	call := func(method, path string, body any, ifMatch string) (int, []byte, time.Duration) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, *base+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
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

	// Setup, not measured: one person and one draft each.
	ids := make([]string, *n)
	parallel(*n, *c, func(i int) {
		st, body, _ := call("POST", "/v1/people", map[string]any{"given_name": "Load", "family_name": "Test",
			"date_of_birth": "1960-01-01", "person_type": "adult"}, "")
		var p struct {
			ID string `json:"id"`
		}
		if st != 201 || json.Unmarshal(body, &p) != nil {
			log.Fatalf("create person: %d %s", st, body)
		}
		st, body, _ = call("POST", "/v1/people/"+p.ID+"/assessments", draft, "")
		var a struct {
			ID string `json:"id"`
		}
		if st != 201 || json.Unmarshal(body, &a) != nil {
			log.Fatalf("create assessment: %d %s", st, body)
		}
		ids[i] = a.ID
	})

	// Measured: the completions.
	lat := make([]time.Duration, *n)
	var failed atomic.Int64
	start := time.Now()
	parallel(*n, *c, func(i int) {
		st, body, d := call("POST", "/v1/assessments/"+ids[i]+"/complete", map[string]any{}, `"1"`)
		if st != 200 {
			if failed.Add(1) == 1 {
				log.Printf("complete: %d %s", st, body)
			}
		}
		lat[i] = d
	})
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("complete_assessment %d in %.2fs: %.0f/s p50 %s p90 %s p99 %s max %s failed %d (c=%d)\n",
		*n, elapsed.Seconds(), float64(*n)/elapsed.Seconds(), pct(0.50).Round(10*time.Microsecond),
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
