package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHarnessRejectsResponsesOutsideTheContract(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	path := "/v1/people/" + p.Id.String()
	hdr := http.Header{"X-Request-Id": {"x"}, "Content-Type": {"application/json"}, "Etag": {`"1"`}}
	for name, r := range map[string]*resp{
		"missing required field": {Status: 200, Header: hdr, Body: []byte(`{"id":"` + p.Id.String() + `"}`)},
		"undeclared status":      {Status: 418, Header: http.Header{"X-Request-Id": {"x"}, "Content-Type": {"application/problem+json"}}, Body: []byte(`{"type":"x","title":"t","status":418}`)},
		"error not a problem":    {Status: 404, Header: hdr, Body: []byte(`{}`)},
		"no request id":          {Status: 200, Header: http.Header{}, Body: []byte(`{}`)},
	} {
		require.Error(t, specError(http.MethodGet, path, nil, r), name)
	}
}

func TestBadInputGetsAProblemAndChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.newPerson(nil)
	tok := b.token("practitioner")
	valid := `{"given_name":"A","family_name":"B","date_of_birth":"1970-01-01","person_type":"adult"}`
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		hdr        []string
		wantStatus int
		wantType   string
		wantField  string // an entry of errors[] with this field, when set
		wantCode   string
	}{
		{"malformed JSON", "POST", "/v1/people", `{"given_name":`, nil, 400, "validation", "", "malformed_json"},
		{"wrong type", "POST", "/v1/people", strings.Replace(valid, `"A"`, `42`, 1), nil, 400, "validation", "/given_name", "type"},
		{"unknown field", "POST", "/v1/people", strings.Replace(valid, `{`, `{"shoe_size":9,`, 1), nil, 400, "validation", "/shoe_size", "unknown_field"},
		{"missing required field", "POST", "/v1/people", `{"given_name":"A","date_of_birth":"1970-01-01","person_type":"adult"}`, nil, 400, "validation", "/family_name", "required"},
		{"bad enum", "POST", "/v1/people", strings.Replace(valid, `"adult"`, `"elder"`, 1), nil, 400, "validation", "/person_type", "enum"},
		{"bad date", "POST", "/v1/people", strings.Replace(valid, `1970-01-01`, `1970-13-01`, 1), nil, 400, "validation", "/date_of_birth", "format"},
		{"invalid NHS number", "POST", "/v1/people", strings.Replace(valid, `{`, `{"nhs_number":"9434765918",`, 1), nil, 400, "validation", "/nhs_number", "nhs_number_check_digit"},
		{"NHS number of letters", "POST", "/v1/people", strings.Replace(valid, `{`, `{"nhs_number":"abc",`, 1), nil, 400, "validation", "/nhs_number", "pattern"},
		{"invalid postcode", "POST", "/v1/people", strings.Replace(valid, `{`, `{"address":{"line1":"1 Road","town":"Luton","postcode":"ZZ99 ZZZ"},`, 1), nil, 400, "validation", "/address/postcode", "postcode"},
		{"blank name", "POST", "/v1/people", strings.Replace(valid, `"A"`, `"   "`, 1), nil, 400, "validation", "/given_name", "blank"},
		{"name of a Unicode hair space", "POST", "/v1/people", strings.Replace(valid, `"A"`, `"\u200a"`, 1), nil, 400, "validation", "/given_name", "blank"},
		{"NUL in a name", "POST", "/v1/people", strings.Replace(valid, `"A"`, `"A\u0000B"`, 1), nil, 400, "validation", "/given_name", "control_character"},
		{"line break in a name", "POST", "/v1/people", strings.Replace(valid, `"A"`, `"A\nB"`, 1), nil, 400, "validation", "/given_name", "control_character"},
		{"invalid UTF-8", "POST", "/v1/people", strings.Replace(valid, `"A"`, "\"A\xff\"", 1), nil, 400, "validation", "/given_name", "utf8"},
		{"trailing data", "POST", "/v1/people", valid + ` {"x":1}`, nil, 400, "validation", "", "trailing_data"},
		{"NUL in a query", "GET", "/v1/assessments?practitioner=a%00b", nil, nil, 400, "validation", "practitioner", "control_character"},
		{"year 0", "POST", "/v1/people", strings.Replace(valid, `1970-01-01`, `0000-01-01`, 1), nil, 400, "validation", "/date_of_birth", "format"},
		{"body on an action that takes none", "POST", "/v1/support-plans/" + newID() + "/submit", `{}`, nil, 400, "validation", "", "body_not_allowed"},
		{"future date of birth", "POST", "/v1/people", strings.Replace(valid, `1970-01-01`, `2999-01-01`, 1), nil, 400, "validation", "/date_of_birth", "format"},
		{"future date of birth within the range", "POST", "/v1/people", strings.Replace(valid, `1970-01-01`, `2199-01-01`, 1), nil, 400, "validation", "/date_of_birth", "date_range"},
		{"no body", "POST", "/v1/people", "", nil, 400, "validation", "", "required"},
		{"oversized body", "POST", "/v1/people", `{"given_name":"` + strings.Repeat("a", 1<<20) + `"}`, nil, 413, "payload-too-large", "", ""},
		{"wrong content type", "POST", "/v1/people", valid, []string{"Content-Type", "text/plain"}, 415, "unsupported-media-type", "", ""},
		{"no content type", "POST", "/v1/people", valid, []string{"Content-Type", ""}, 415, "unsupported-media-type", "", ""},
		{"bad page token", "GET", "/v1/people?page_token=bm9wZQ", nil, nil, 400, "validation", "page_token", "invalid_page_token"},
		{"page size too big", "GET", "/v1/people?page_size=500", nil, nil, 400, "validation", "page_size", "maximum"},
		{"page size not a number", "GET", "/v1/people?page_size=ten", nil, nil, 400, "validation", "page_size", "type"},
		{"bad UUID in path", "GET", "/v1/people/not-a-uuid", nil, nil, 400, "validation", "person_id", "format"},
		{"bad UUID in body", "POST", "/v1/people/" + p.Id.String() + "/relationships", `{"kind":"carer_of","related_person_id":"nope"}`, nil, 400, "validation", "/related_person_id", "format"},
		{"empty patch", "PATCH", "/v1/people/" + p.Id.String(), `{}`, []string{"If-Match", `"1"`}, 400, "validation", "", "minProperties"},
		{"null for a required field in a patch", "PATCH", "/v1/people/" + p.Id.String(), `{"family_name":null}`, []string{"If-Match", `"1"`}, 400, "validation", "/family_name", "type"},
		{"unknown path", "GET", "/v1/nothing-here", nil, nil, 404, "not-found", "", ""},
		{"method not allowed", "DELETE", "/v1/people/" + p.Id.String(), nil, nil, 405, "method-not-allowed", "", ""},
		{"OPTIONS is not part of the contract", "OPTIONS", "/v1/people", nil, nil, 405, "method-not-allowed", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := b.counts()
			r := b.do(tt.method, tt.path, tok, tt.body, tt.hdr...)
			require.Equal(t, tt.wantStatus, r.Status, string(r.Body))
			prob := r.problem(t)
			require.Equal(t, "urn:pbudget:problem:"+tt.wantType, prob.Type)
			require.Equal(t, tt.wantStatus, prob.Status)
			require.NotEmpty(t, *prob.Detail)
			if tt.wantCode != "" {
				require.NotNil(t, prob.Errors, string(r.Body))
				found := false
				for _, e := range *prob.Errors {
					if e.Field == tt.wantField && e.Code == tt.wantCode {
						found = true
					}
				}
				require.True(t, found, "want errors[] with field %q code %q in %s", tt.wantField, tt.wantCode, r.Body)
			}
			if tt.wantStatus == http.StatusMethodNotAllowed {
				require.Contains(t, r.Header.Get("Allow"), "GET")
				require.NotContains(t, r.Header.Get("Allow"), "OPTIONS", "OPTIONS is not answered")
			}
			require.Equal(t, before, b.counts(), "a rejected request changes nothing")
		})
	}
}

func TestEveryErrorCarriesTheRequestIDTheCallerSent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	r := b.do(http.MethodGet, "/v1/people/"+newID(), b.token("practitioner"), nil, "X-Request-Id", "trace-123")
	require.Equal(t, "trace-123", r.Header.Get("X-Request-Id"))
	require.Equal(t, "trace-123", *r.problem(t).RequestId)
	bad := b.do(http.MethodGet, "/healthz", "", nil, "X-Request-Id", "has spaces in it")
	require.NotEqual(t, "has spaces in it", bad.Header.Get("X-Request-Id"), "an unsafe id is replaced")
}

func TestHeadIsRefusedOnEveryPathWithTheAnsweredMethods(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for path, allow := range map[string]string{"/v1/people": "GET, POST", "/healthz": "GET", "/v1/people/" + newID(): "GET, PATCH"} {
		r := b.do(http.MethodHead, path, b.token("practitioner"), nil)
		require.Equal(t, http.StatusMethodNotAllowed, r.Status, path)
		require.Equal(t, allow, r.Header.Get("Allow"), path)
		require.Empty(t, r.Body, "HEAD has no body")
	}
}
