package pbudget

import (
	"context"
	"net/http"
	"strconv"

	"github.com/pbudget/pbudget/pkg/client"
)

// ETag is the version a response carries, for If-Match: pbudget.ETag(r.HTTPResponse).
func ETag(resp *http.Response) string {
	if resp == nil {
		return ""
	}
	return resp.Header.Get("ETag")
}

// IfMatch sends etag (from ETag) as If-Match, which every PATCH, PUT and action requires: the
// change applies only if nobody changed the resource since (otherwise a 412, ErrPreconditionFailed).
//
//	c.SubmitSupportPlanWithResponse(ctx, planID, nil, pbudget.IfMatch(etag))
func IfMatch(etag string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("If-Match", etag)
		return nil
	}
}

// IfMatchVersion sends If-Match for a resource's version field, for a resource read from a list,
// where there is no ETag header: the service's ETag is the version, quoted.
func IfMatchVersion(version int) client.RequestEditorFn {
	return IfMatch(VersionETag(version))
}

// VersionETag is the ETag of a resource's version.
func VersionETag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// Replayed reports whether a response is the stored answer to an earlier request with the same
// Idempotency-Key (a retry whose first try had succeeded).
func Replayed(resp *http.Response) bool {
	return resp != nil && resp.Header.Get("Idempotent-Replayed") == "true"
}
