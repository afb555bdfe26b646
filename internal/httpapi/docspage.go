package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"strings"

	"go.yaml.in/yaml/v4"
)

// The /docs page is Redoc over the served contract, with the journey (docs/journey.md) put first:
// info.description becomes the journey, then the spec's own description under "About this API";
// Redoc lists the description's headings in its menu before the operations. The
// spec goes into the page as JSON (in the contract's own order, so the reference reads as
// openapi.yaml does) and one inline script hands it to Redoc; the CSP allows that script by its
// hash, and nothing else inline.

const docsInit = `Redoc.init(JSON.parse(document.getElementById("pbudget-spec").textContent), {}, document.getElementById("redoc"));`

// docs/index.html is the page's template: the spec and the init script go in its two script elements.
var docsTemplate = template.Must(template.New("docs").Parse(string(docsPage)))

// renderDocsPage returns the /docs page and its Content-Security-Policy, from the contract as it is
// served (YAML or JSON) and the journey's Markdown.
func renderDocsPage(spec []byte, journey string) ([]byte, string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(spec, &doc); err != nil {
		return nil, "", fmt.Errorf("docs page: read spec: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, "", errors.New("docs page: the spec is not one YAML document")
	}
	info := mapValue(doc.Content[0], "info")
	if info == nil {
		return nil, "", errors.New("docs page: the spec has no info")
	}
	desc := mapValue(info, "description")
	if desc == nil {
		desc = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str"}
		info.Content = append(info.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "description"}, desc)
	}
	if strings.TrimSpace(desc.Value) != "" {
		desc.Value = journey + "\n\n# About this API\n\n" + desc.Value
	} else {
		desc.Value = journey
	}
	var js bytes.Buffer
	if err := nodeJSON(&js, doc.Content[0]); err != nil {
		return nil, "", fmt.Errorf("docs page: %w", err)
	}
	var page bytes.Buffer
	// template.JS: the JSON is written as it is; encoding/json escaped <, > and & in its strings, so
	// it cannot close the script element.
	if err := docsTemplate.Execute(&page, map[string]any{"Spec": template.JS(js.String()), "Init": template.JS(docsInit)}); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256([]byte(docsInit))
	csp := "default-src 'none'; script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:"
	return page.Bytes(), csp, nil
}

// mapValue is the value of key in a YAML mapping, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// nodeJSON writes a YAML node as JSON, keeping the order of mapping keys.
func nodeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.AliasNode:
		return nodeJSON(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			k, err := json.Marshal(n.Content[i].Value)
			if err != nil {
				return err
			}
			buf.Write(k)
			buf.WriteByte(':')
			if err := nodeJSON(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := nodeJSON(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		if tag := n.ShortTag(); tag == "!!str" || tag == "!!timestamp" || tag == "!!binary" {
			b, err := json.Marshal(n.Value)
			if err != nil {
				return err
			}
			buf.Write(b)
			return nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		buf.Write(b)
	default:
		return fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
	}
	return nil
}
