package webhook

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Payload is the body of a delivery: Standard Webhooks' type, timestamp and data, thin.
type Payload struct {
	Type      EventType `json:"type"`
	Timestamp time.Time `json:"timestamp"` // when the change happened (each attempt's time is webhook-timestamp)
	Data      Data      `json:"data"`
}

// Data identifies the record that changed, and nothing else about it.
type Data struct {
	ID      uuid.UUID `json:"id"`
	Object  string    `json:"object"`  // the record's kind: the event type's first part
	Council string    `json:"council"` // the council's code
	Links   Links     `json:"links"`
}

// Links are where to read the record.
type Links struct {
	Self string `json:"self"` // the record's GET URL
}

// NewPayload builds the payload of event t about record id of council, which happened at at;
// apiBase is the API's public root (https://pbudget.example.gov.uk) and path the record's GET
// path (/v1/support-plans/{id}).
func NewPayload(t EventType, id uuid.UUID, council string, at time.Time, apiBase, path string) (Payload, error) {
	if !t.Valid() {
		return Payload{}, fmt.Errorf("webhook: unknown event type %q", t)
	}
	if id == uuid.Nil || council == "" || strings.ContainsAny(council, "/?#") {
		return Payload{}, fmt.Errorf("webhook: a payload names its record and council")
	}
	base, err := url.Parse(apiBase)
	if err != nil || base.Scheme == "" || base.Host == "" || base.RawQuery != "" || base.User != nil {
		return Payload{}, fmt.Errorf("webhook: the API base %q is not an absolute URL", apiBase)
	}
	// Only a path under /v1/ with the record's id: a query string could carry what a payload must not.
	if !strings.HasPrefix(path, "/v1/") || strings.ContainsAny(path, "?#") || !strings.Contains(path, id.String()) {
		return Payload{}, fmt.Errorf("webhook: the link %q is not the record's /v1/ path", path)
	}
	return Payload{Type: t, Timestamp: at.UTC().Truncate(time.Microsecond),
		Data: Data{ID: id, Object: t.Object(), Council: council, Links: Links{Self: strings.TrimSuffix(base.String(), "/") + path}}}, nil
}

// Marshal encodes the payload compactly: the bytes signed are the bytes sent.
func (p Payload) Marshal() ([]byte, error) { return json.Marshal(p) }
