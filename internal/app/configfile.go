package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/pbudget/pbudget/api"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/charging"
	"github.com/pbudget/pbudget/internal/httpapi"
	"github.com/pbudget/pbudget/internal/plan"
	"github.com/pbudget/pbudget/internal/ras"
)

// ConfigFile is one council configuration file (docs/configuration.md): YAML whose entries are the
// API's create bodies, field for field.
type ConfigFile struct {
	Path string // as the operator named it; shown in every problem and in the audit trail
	Data []byte
}

// The sections of a configuration file, each a list of one API create body's entries.
const (
	sectionRateTables = "rate_tables"        // createRateTable bodies
	sectionRAS        = "ras_versions"       // createRASVersion bodies, and status
	sectionCategories = "service_categories" // createServiceCategory bodies
)

// sectionPaths are the operations (POST) whose request bodies the sections' entries are.
var sectionPaths = map[string]string{
	sectionRateTables: "/v1/rate-tables",
	sectionRAS:        "/v1/ras-versions",
	sectionCategories: "/v1/service-categories",
}

// Problem is one thing wrong with a configuration file, where it was found and the problem the API
// would answer with for the same body.
type Problem struct {
	File   string
	Line   int // 1-based; 0 when unknown
	Column int
	Where  string // section[index] and the field, e.g. ras_versions[0].model.pence_per_point
	Type   string // the API's problem type, e.g. urn:pbudget:problem:validation
	Code   string // for a field: the rule it broke (minimum, required, …); else the problem's code
	Detail string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	b.WriteString(": ")
	if p.Where != "" {
		b.WriteString(p.Where + ": ")
	}
	fmt.Fprintf(&b, "%s: %s [%s]", p.Code, p.Detail, p.Type)
	return b.String()
}

// LoadError lists every problem found; a load that fails changes nothing.
type LoadError struct{ Problems []Problem }

func (e *LoadError) Error() string {
	lines := make([]string, 0, len(e.Problems)+1)
	lines = append(lines, fmt.Sprintf("the configuration has %d problem(s); nothing was changed", len(e.Problems)))
	for _, p := range e.Problems {
		lines = append(lines, "  "+p.String())
	}
	return strings.Join(lines, "\n")
}

// entry is one validated entry of a file, with its domain value.
type entry struct {
	file    string
	section string
	index   int
	line    int
	column  int
	pos     positions // of its fields, by JSON Pointer from the entry
	table   *charging.RateTable
	ras     *ras.Input
	active  bool // ras_versions: status active
	cat     *plan.Category
}

func (e entry) where() string { return fmt.Sprintf("%s[%d]", e.section, e.index) }

// label names the entry for the operator: its section and what identifies it.
func (e entry) label() string {
	switch {
	case e.table != nil:
		return fmt.Sprintf("rate table from %s %q", e.table.ValidFrom, e.table.Name)
	case e.ras != nil:
		return fmt.Sprintf("%s RAS version %q", e.ras.AssessmentType, strings.TrimSpace(e.ras.Name))
	default:
		return fmt.Sprintf("service category %s", e.cat.Key)
	}
}

// problem turns err, from validating or applying the entry, into problems located in its file.
func (e entry) problem(err error) []Problem {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		ae = apperr.ErrInternal.Wrap(err)
	}
	if ae.Kind == apperr.Internal {
		// As in the API: the cause is not the file's fault, and is not shown as if it were.
		return []Problem{{File: e.file, Line: e.line, Column: e.column, Where: e.where(), Type: problemType("internal"),
			Code: "internal", Detail: err.Error()}}
	}
	if len(ae.Fields) == 0 {
		return []Problem{{File: e.file, Line: e.line, Column: e.column, Where: e.where(), Type: problemType(ae.Code),
			Code: ae.Code, Detail: ae.Message}}
	}
	out := make([]Problem, 0, len(ae.Fields))
	for _, f := range ae.Fields {
		line, col := e.pos.at(f.Field, e.line, e.column)
		out = append(out, Problem{File: e.file, Line: line, Column: col, Where: e.where() + dotted(f.Field),
			Type: problemType(ae.Code), Code: f.Code, Detail: f.Message})
	}
	return out
}

func problemType(code string) string { return "urn:pbudget:problem:" + code }

// dotted renders a JSON Pointer as .a.b[0].c, the way the problems name fields.
func dotted(ptr string) string {
	if ptr == "" {
		return ""
	}
	var b strings.Builder
	for _, part := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		if _, err := strconv.Atoi(part); err == nil {
			b.WriteString("[" + part + "]")
		} else {
			b.WriteString("." + part)
		}
	}
	return b.String()
}

// positions maps the JSON Pointers of a value's nodes to their line and column.
type positions map[string][2]int

// at returns where ptr is, or its nearest ancestor (a missing field is reported at its object).
func (p positions) at(ptr string, line, col int) (int, int) {
	for {
		if lc, ok := p[ptr]; ok {
			return lc[0], lc[1]
		}
		i := strings.LastIndex(ptr, "/")
		if i < 0 {
			return line, col
		}
		ptr = ptr[:i]
	}
}

// parseConfig reads and validates files, every entry as the API validates its create body, and
// returns their entries in file order, or every problem found.
func parseConfig(ctx context.Context, checker *httpapi.BodyChecker, councilCode string, files []ConfigFile) ([]entry, []Problem) {
	var entries []entry
	var problems []Problem
	for _, f := range files {
		es, ps := parseFile(ctx, checker, councilCode, f)
		entries, problems = append(entries, es...), append(problems, ps...)
	}
	problems = append(problems, duplicates(entries)...)
	return entries, problems
}

func parseFile(ctx context.Context, checker *httpapi.BodyChecker, councilCode string, f ConfigFile) ([]entry, []Problem) {
	fail := func(line, col int, where, detail string) []Problem {
		return []Problem{{File: f.Path, Line: line, Column: col, Where: where, Type: problemType("validation"), Code: "yaml", Detail: detail}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(f.Data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, fail(0, 0, "", "not valid YAML: "+err.Error())
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fail(extra.Line, extra.Column, "", "one YAML document per file")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fail(root.Line, root.Column, "", "a configuration file is a mapping of council, rate_tables, ras_versions and service_categories")
	}
	pos := positions{}
	value, err := toValue(root, "", pos)
	if err != nil {
		var ye *yamlError
		if errors.As(err, &ye) {
			return nil, fail(ye.line, ye.column, "", ye.msg)
		}
		return nil, fail(0, 0, "", err.Error())
	}
	values := value.(map[string]any)
	var entries []entry
	var problems []Problem
	for i := 0; i+1 < len(root.Content); i += 2 {
		key := root.Content[i].Value
		v, ok := values[key]
		if !ok {
			continue // a << merge key
		}
		at := pos["/"+escape(key)]
		switch key {
		case "council":
			if code, ok := v.(string); !ok || code != councilCode {
				problems = append(problems, fail(at[0], at[1], "council", fmt.Sprintf("the file is for council %v, not %s", v, councilCode))...)
			}
			continue
		case sectionRateTables, sectionRAS, sectionCategories:
		default:
			problems = append(problems, fail(at[0], at[1], key, "unknown section (council, rate_tables, ras_versions, service_categories)")...)
			continue
		}
		list, ok := v.([]any)
		if !ok {
			problems = append(problems, fail(at[0], at[1], key, "a section is a list of entries")...)
			continue
		}
		for i, item := range list {
			ptr := fmt.Sprintf("/%s/%d", key, i)
			e := entry{file: f.Path, section: key, index: i, pos: positions{}}
			e.line, e.column = pos.at(ptr, at[0], at[1])
			for p, lc := range pos {
				if rest, ok := strings.CutPrefix(p, ptr); ok && (rest == "" || rest[0] == '/') {
					e.pos[rest] = lc
				}
			}
			if err := decodeEntry(ctx, checker, &e, item); err != nil {
				problems = append(problems, e.problem(err)...)
				continue
			}
			entries = append(entries, e)
		}
	}
	sort.SliceStable(problems, func(i, j int) bool {
		return problems[i].Line < problems[j].Line || (problems[i].Line == problems[j].Line && problems[i].Column < problems[j].Column)
	})
	return entries, problems
}

// decodeEntry validates item as the request body of its section's operation and converts it to
// the domain value, exactly as the API does.
func decodeEntry(ctx context.Context, checker *httpapi.BodyChecker, e *entry, item any) error {
	body, ok := item.(map[string]any)
	if !ok {
		return apperr.Validation(apperr.FieldError{In: "body", Code: "type", Message: "an entry is a mapping of the API's fields"})
	}
	var own []apperr.FieldError // problems with the file's own fields
	if e.section == sectionRAS {
		// status is the file's own field: whether to put the version in force once loaded.
		status, given := body["status"]
		body = withoutKey(body, "status")
		switch status {
		case "active":
			e.active = true
		case "draft":
		default:
			msg := `status must be draft or active`
			if !given {
				msg = `status is required: draft (review it, then activate it through the API) or active (in force once loaded)`
			}
			own = append(own, apperr.FieldError{Field: "/status", In: "body", Code: "enum", Message: msg})
		}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	raw, err = checker.Check(ctx, http.MethodPost, sectionPaths[e.section], raw)
	var ae *apperr.Error
	switch {
	case err != nil && len(own) > 0 && errors.As(err, &ae) && ae.Code == "validation":
		return apperr.Validation(append(own, ae.Fields...)...)
	case err != nil:
		return err
	case len(own) > 0:
		return apperr.Validation(own...)
	}
	switch e.section {
	case sectionRateTables:
		var b api.RateTableCreate
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		t, err := httpapi.RateTableInput(b)
		if err != nil {
			return err
		}
		t.Name = strings.TrimSpace(t.Name) // as CreateTable does
		e.table = &t
	case sectionRAS:
		var b api.RASVersionCreate
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		in, err := httpapi.RASInput(b)
		if err != nil {
			return err
		}
		in.Name = strings.TrimSpace(in.Name) // as Create does
		e.ras = &in
	case sectionCategories:
		var b api.ServiceCategoryCreate
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		c := httpapi.CategoryInput(b)
		e.cat = &c
	}
	return nil
}

// duplicates finds entries of the load that name the same thing twice.
func duplicates(entries []entry) []Problem {
	var out []Problem
	seen := map[string]entry{}
	activeOf := map[ras.AssessmentType]entry{}
	dup := func(e entry, field, key string) {
		if first, ok := seen[key]; ok {
			out = append(out, e.problem(apperr.Validation(apperr.FieldError{Field: field, In: "body", Code: "duplicate",
				Message: fmt.Sprintf("%s is also at %s:%d (%s)", e.label(), first.file, first.line, first.where())}))...)
			return
		}
		seen[key] = e
	}
	for _, e := range entries {
		switch {
		case e.table != nil:
			dup(e, "/valid_from", "table "+e.table.ValidFrom.String())
		case e.ras != nil:
			dup(e, "/name", "ras "+string(e.ras.AssessmentType)+" "+e.ras.Name)
			if e.active {
				if first, ok := activeOf[e.ras.AssessmentType]; ok {
					out = append(out, e.problem(apperr.Validation(apperr.FieldError{Field: "/status", In: "body", Code: "duplicate",
						Message: fmt.Sprintf("one RAS version of a type is active at a time; %s is active too (%s:%d)", first.label(), first.file, first.line)}))...)
				} else {
					activeOf[e.ras.AssessmentType] = e
				}
			}
		case e.cat != nil:
			dup(e, "/key", "category "+e.cat.Key)
		}
	}
	return out
}

func withoutKey(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func escape(key string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(key) }

type yamlError struct {
	line, column int
	msg          string
}

func (e *yamlError) Error() string { return fmt.Sprintf("%d:%d: %s", e.line, e.column, e.msg) }

// maxAliasExpansions bounds the nodes aliases may expand to (a "billion laughs" file).
const maxAliasExpansions = 100_000

// toValue turns a YAML node into the value its JSON form decodes to, recording where each node
// is. Dates stay strings, as in JSON; mapping keys are strings; a key may appear once.
func toValue(n *yaml.Node, ptr string, pos positions) (any, error) {
	budget := maxAliasExpansions
	return toValueBudget(n, ptr, pos, &budget)
}

func toValueBudget(n *yaml.Node, ptr string, pos positions, budget *int) (any, error) {
	if *budget--; *budget < 0 {
		return nil, &yamlError{n.Line, n.Column, "the file expands to too many values"}
	}
	if _, ok := pos[ptr]; !ok {
		pos[ptr] = [2]int{n.Line, n.Column}
	}
	if tag := n.ShortTag(); (n.Kind == yaml.MappingNode && tag != "!!map") || (n.Kind == yaml.SequenceNode && tag != "!!seq") {
		return nil, &yamlError{n.Line, n.Column, fmt.Sprintf("unsupported YAML tag %s", tag)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		return toValueBudget(n.Alias, ptr, pos, budget)
	case yaml.MappingNode:
		out := map[string]any{}
		if err := mergeMapping(n, ptr, pos, budget, out, true); err != nil {
			return nil, err
		}
		return out, nil
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := toValueBudget(c, ptr+"/"+strconv.Itoa(i), pos, budget)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str", "!!timestamp":
			return n.Value, nil
		case "!!null":
			return nil, nil
		case "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				return nil, &yamlError{n.Line, n.Column, err.Error()}
			}
			return v, nil
		}
		return nil, &yamlError{n.Line, n.Column, fmt.Sprintf("unsupported YAML tag %s", n.ShortTag())}
	}
	return nil, &yamlError{n.Line, n.Column, "unsupported YAML node"}
}

// mergeMapping adds n's pairs to out; << merges another mapping's pairs under the explicit ones.
func mergeMapping(n *yaml.Node, ptr string, pos positions, budget *int, out map[string]any, explicit bool) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return &yamlError{n.Line, n.Column, "<< merges a mapping"}
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || (k.ShortTag() != "!!str" && k.ShortTag() != "!!merge") {
			return &yamlError{k.Line, k.Column, "mapping keys are plain strings"}
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if _, dup := out[k.Value]; dup {
			if explicit {
				return &yamlError{k.Line, k.Column, fmt.Sprintf("%s appears twice", k.Value)}
			}
			continue // an explicit key wins over a merged one
		}
		child := ptr + "/" + escape(k.Value)
		if explicit {
			pos[child] = [2]int{k.Line, k.Column} // a field is reported at its key
		}
		val, err := toValueBudget(v, child, pos, budget)
		if err != nil {
			return err
		}
		out[k.Value] = val
	}
	for _, m := range merges {
		if m.Kind == yaml.SequenceNode {
			for _, c := range m.Content {
				if err := mergeMapping(c, ptr, pos, budget, out, false); err != nil {
					return err
				}
			}
			continue
		}
		if err := mergeMapping(m, ptr, pos, budget, out, false); err != nil {
			return err
		}
	}
	return nil
}
