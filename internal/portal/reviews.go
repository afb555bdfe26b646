package portal

import (
	"context"

	"github.com/google/uuid"

	"github.com/pbudget/pbudget/internal/actor"
	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/page"
	"github.com/pbudget/pbudget/internal/review"
	"github.com/pbudget/pbudget/internal/reviews"
)

// WithReviews gives the person's view the reviews service (its reads and a person's request).
func (s *Service) WithReviews(r *reviews.Service) *Service { s.reviews = r; return s }

// ReviewView is what the person sees of their reviews: the next one (nil when none is due) with
// the requests still open, and the completed ones, oldest first.
type ReviewView struct {
	Next    *reviews.Schedule
	History []reviews.Review
}

// maxReviews bounds the history shown.
const maxReviews = 200

// Reviews returns the next review and the history of a person the holder acts for.
func (s *Service) Reviews(ctx context.Context, a actor.Actor, personID uuid.UUID) (ReviewView, error) {
	if err := only(a); err != nil {
		return ReviewView{}, err
	}
	if err := s.people.CheckReach(ctx, a, personID); err != nil {
		return ReviewView{}, err
	}
	var v ReviewView
	sched, err := s.reviews.GetSchedule(ctx, a, personID)
	switch {
	case err == nil:
		v.Next = &sched
	case apperr.KindOf(err) != apperr.NotFound:
		return ReviewView{}, err
	}
	list, err := s.reviews.List(ctx, a, reviews.ReviewFilter{PersonID: &personID}, page.Request{Size: maxReviews})
	if err != nil {
		return ReviewView{}, err
	}
	if len(list) > maxReviews {
		list = list[:maxReviews]
	}
	v.History = list
	return v, nil
}

// RequestReview asks for an unplanned review of a person the holder acts for, with a reason:
// the service brings the next review forward, as for a practitioner's request.
func (s *Service) RequestReview(ctx context.Context, a actor.Actor, personID uuid.UUID, reason review.Reason, note string) (ReviewView, error) {
	if err := only(a); err != nil {
		return ReviewView{}, err
	}
	if err := s.people.CheckReach(ctx, a, personID); err != nil {
		return ReviewView{}, err
	}
	if _, _, err := s.reviews.RequestReview(ctx, a, personID, reviews.RequestInput{Reason: reason, Note: note}); err != nil {
		return ReviewView{}, err
	}
	return s.Reviews(ctx, a, personID)
}
