package httpapi

import (
	"context"
	"errors"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/auth"
	"github.com/pbudget/pbudget/internal/council"
)

var (
	errUnknownCouncil = auth.ErrInvalidToken.WithMessage("the bearer token names an unknown council")
	errRetiredCouncil = auth.ErrInvalidToken.WithMessage("the bearer token names a council that has been retired from this service")
)

// authenticate verifies the bearer token and resolves its council.
func (s *Server) authenticate(c echo.Context) (actor.Actor, error) {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return actor.Actor{}, auth.ErrMissingToken
	}
	id, err := s.verifier.Verify(strings.TrimSpace(token))
	if err != nil {
		return actor.Actor{}, err
	}
	tenant, err := s.councils.ByCode(c.Request().Context(), id.Council)
	if err != nil {
		switch {
		case errors.Is(err, apperr.ErrNotFound):
			return actor.Actor{}, errUnknownCouncil
		case errors.Is(err, council.ErrRetired):
			return actor.Actor{}, errRetiredCouncil
		}
		return actor.Actor{}, err
	}
	return actor.Actor{
		Subject: id.Subject, CouncilID: tenant.ID, CouncilCode: tenant.Code,
		Roles: id.Roles, ProviderID: id.ProviderID, PersonID: id.PersonID, RequestID: requestID(c),
	}, nil
}

// mustActor returns the actor the contract middleware put in ctx; every secured operation has one.
func mustActor(a actor.Actor, ok bool) (actor.Actor, error) {
	if !ok {
		return actor.Actor{}, apperr.ErrInternal.WithMessage("no actor in context")
	}
	return a, nil
}

// actorAndVersion returns the request's actor and the version its If-Match header names: the
// preamble of every change to a versioned resource.
func actorAndVersion(ctx context.Context, ifm *string) (actor.Actor, int, error) {
	a, err := mustActor(actor.From(ctx))
	if err != nil {
		return actor.Actor{}, 0, err
	}
	version, err := ifMatch(ifm)
	return a, version, err
}
