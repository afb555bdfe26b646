package pbudget

import (
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"
)

// Date is the API's date (an ISO 8601 calendar date, no time of day) for a day.
func Date(year int, month time.Month, day int) openapi_types.Date {
	return openapi_types.Date{Time: time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}
