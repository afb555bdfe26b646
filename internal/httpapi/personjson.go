package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/pbudget/pbudget/internal/jsonstr"
	"github.com/pbudget/pbudget/internal/person"
)

// personResponse is GetPerson's 200 with its body encoded by hand, straight from the person, into
// a pooled buffer: the hottest read of the service spent more on encoding/json's reflection and
// the nullable fields' maps of api.Person than on anything of its own. appendPersonJSON writes
// exactly what encoding/json writes for personOut(p) (TestThePersonBodyIsEncodedAsEncodingJSONDoes).
type personResponse struct{ p person.Person }

func (r personResponse) VisitGetPersonResponse(w http.ResponseWriter) error {
	return writePerson(w, r.p, http.StatusOK)
}

// personCreated is CreatePerson's 201, encoded in the same way, with its Location.
type personCreated struct{ p person.Person }

func (r personCreated) VisitCreatePersonResponse(w http.ResponseWriter) error {
	w.Header().Set("Location", "/v1/people/"+r.p.ID.String())
	return writePerson(w, r.p, http.StatusCreated)
}

func writePerson(w http.ResponseWriter, p person.Person, status int) error {
	bp := jsonBuffers.Get().(*[]byte)
	b := appendPersonJSON((*bp)[:0], p)
	b = append(b, '\n') // as json.Encoder
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("ETag", *etag(p.Version))
	w.WriteHeader(status)
	_, err := w.Write(b)
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		jsonBuffers.Put(bp)
	}
	return err
}

var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendPersonJSON appends personOut(p) as encoding/json encodes it: the fields in api.Person's
// order, null for a missing optional field, an address's empty line2 and county left out.
func appendPersonJSON(b []byte, p person.Person) []byte {
	b = append(b, `{"address":`...)
	if a := p.Address; a == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		if a.County != "" {
			b = append(b, `"county":`...)
			b = appendJSONString(b, a.County)
			b = append(b, ',')
		}
		b = append(b, `"line1":`...)
		b = appendJSONString(b, a.Line1)
		if a.Line2 != "" {
			b = append(b, `,"line2":`...)
			b = appendJSONString(b, a.Line2)
		}
		b = append(b, `,"postcode":`...)
		b = appendJSONString(b, a.Postcode)
		b = append(b, `,"town":`...)
		b = appendJSONString(b, a.Town)
		b = append(b, '}')
	}
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, p.CreatedAt)
	b = append(b, `,"date_of_birth":"`...)
	b = p.DateOfBirth.Time().AppendFormat(b, time.DateOnly)
	b = append(b, `","email":`...)
	b = appendJSONNullString(b, p.Email)
	b = append(b, `,"family_name":`...)
	b = appendJSONString(b, p.FamilyName)
	b = append(b, `,"given_name":`...)
	b = appendJSONString(b, p.GivenName)
	b = append(b, `,"id":"`...)
	b = appendUUID(b, p.ID)
	b = append(b, `","nhs_number":`...)
	b = appendJSONNullString(b, p.NHSNumber)
	b = append(b, `,"person_type":`...)
	b = appendJSONString(b, string(p.Type))
	b = append(b, `,"phone":`...)
	b = appendJSONNullString(b, p.Phone)
	b = append(b, `,"preferred_name":`...)
	b = appendJSONNullString(b, p.PreferredName)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, p.UpdatedAt)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(p.Version), 10)
	return append(b, '}')
}

func appendUUID(b []byte, id [16]byte) []byte {
	const hex = "0123456789abcdef"
	for i, x := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[x>>4], hex[x&0xf])
	}
	return b
}

// appendJSONTime is time.Time's MarshalJSON (RFC 3339 with the nanoseconds that are not zero).
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendJSONNullString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

// appendJSONString is encoding/json's string, with its HTML escaping.
func appendJSONString(b []byte, s string) []byte { return jsonstr.Append(b, s, jsonstr.EncodingJSON) }
