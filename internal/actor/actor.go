// Package actor describes who is acting, for which council, in which request: what every
// service method needs for tenancy, access rules and the audit trail.
package actor

import (
	"context"
	"slices"

	"github.com/google/uuid"
)

// Role is one of the roles a token may carry.
type Role string

// The roles of API.md.
const (
	Practitioner Role = "practitioner"
	Approver     Role = "approver"
	Panel        Role = "panel"
	Finance      Role = "finance"
	Auditor      Role = "auditor"
	CouncilAdmin Role = "council_admin"
	Provider     Role = "provider"
	// Person is a person using the council's portal: the person themselves, or their authorised
	// person, nominee or parent. The token's person claim says who; nothing else rides with it.
	Person Role = "person"
)

// Roles lists every known role.
var Roles = []Role{Practitioner, Approver, Panel, Finance, Auditor, CouncilAdmin, Provider, Person}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Actor is the authenticated caller of one request.
type Actor struct {
	Subject     string     // the token's sub
	CouncilID   uuid.UUID  // the tenant; every query is scoped by it
	CouncilCode string     // for logs
	Roles       []Role     // known roles only
	ProviderID  *uuid.UUID // set for provider staff
	PersonID    *uuid.UUID // set for the person role: the holder's own person record
	RequestID   string
}

// Has reports whether the actor carries any of roles.
func (a Actor) Has(roles ...Role) bool {
	for _, r := range roles {
		if slices.Contains(a.Roles, r) {
			return true
		}
	}
	return false
}

// IsProviderOnly reports whether the actor's reach is limited to a provider's people: a provider
// token without any council role.
func (a Actor) IsProviderOnly() bool {
	for _, r := range a.Roles {
		if r != Provider {
			return false
		}
	}
	return a.ProviderID != nil
}

// IsPerson reports whether the actor is a person using the portal (the person role, which a
// token never carries with a staff role): they reach only the people they act for.
func (a Actor) IsPerson() bool { return a.PersonID != nil }

// RoleNames returns the roles as strings.
func (a Actor) RoleNames() []string {
	out := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		out[i] = string(r)
	}
	return out
}

type ctxKey struct{}

// With returns ctx carrying a.
func With(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// From returns the actor in ctx, if any.
func From(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(ctxKey{}).(Actor)
	return a, ok
}
