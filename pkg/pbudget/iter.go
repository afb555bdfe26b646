package pbudget

import (
	"context"
	"fmt"
	"iter"
	"reflect"

	"github.com/pbudget/pbudget/pkg/client"
)

// All iterates over every item of a list operation of the generated client, asking for the next
// page with the previous page's next_page_token until there is none:
//
//	for p, err := range pbudget.All[client.Person](ctx, c.ListPeopleWithResponse, nil) {
//		if err != nil {
//			return err
//		}
//		...
//	}
//
// params holds the filters and page size (nil for none); it is not changed. T is the item type
// (the Items of the operation's 200 response); a T that is not is an error, yielded before any
// request. An error ends the iteration after it is yielded. Stopping the loop early fetches no
// more pages.
func All[T, P, R any](ctx context.Context, list func(context.Context, *P, ...client.RequestEditorFn) (*R, error), params *P, editors ...client.RequestEditorFn) iter.Seq2[T, error] {
	return pages[T](ctx, params, func(ctx context.Context, p *P) (*R, error) { return list(ctx, p, editors...) })
}

// AllOf is All for the list operations under a parent resource, such as a person's assessments:
//
//	pbudget.AllOf[client.Assessment](ctx, c.ListPersonAssessmentsWithResponse, personID, nil)
func AllOf[T, ID, P, R any](ctx context.Context, list func(context.Context, ID, *P, ...client.RequestEditorFn) (*R, error), id ID, params *P, editors ...client.RequestEditorFn) iter.Seq2[T, error] {
	return pages[T](ctx, params, func(ctx context.Context, p *P) (*R, error) { return list(ctx, id, p, editors...) })
}

func pages[T, P, R any](ctx context.Context, params *P, call func(context.Context, *P) (*R, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		shape, err := listShapeOf[T, P, R]()
		if err != nil {
			yield(zero, err)
			return
		}
		var p P
		if params != nil {
			p = *params
		}
		pv := reflect.ValueOf(&p).Elem().Field(shape.pageToken)
		for {
			resp, err := call(ctx, &p)
			if err != nil {
				yield(zero, err)
				return
			}
			body := reflect.ValueOf(resp).Elem().Field(shape.json200)
			if body.IsNil() {
				yield(zero, fmt.Errorf("pbudget: %s has no 200 body", shape.response))
				return
			}
			items, next := body.Elem().Field(shape.items), body.Elem().Field(shape.next)
			for i := range items.Len() {
				if !yield(items.Index(i).Interface().(T), nil) {
					return
				}
			}
			if next.IsNil() || next.Elem().String() == "" {
				return
			}
			tok := reflect.New(pv.Type().Elem())
			tok.Elem().Set(next.Elem())
			pv.Set(tok)
		}
	}
}

// listShape is where a list operation's params and response keep the page token and items.
type listShape struct {
	response                  string
	pageToken, json200, items int
	next                      int
}

// listShapeOf checks the generated types' shapes: P has PageToken *string, R has JSON200 *L,
// and L has Items []T and NextPageToken *string.
func listShapeOf[T, P, R any]() (listShape, error) {
	pt, rt, want := reflect.TypeFor[P](), reflect.TypeFor[R](), reflect.TypeFor[T]()
	s := listShape{response: rt.String()}
	field := func(t reflect.Type, name string, ok func(reflect.Type) bool) (int, error) {
		if t.Kind() == reflect.Struct {
			if f, found := t.FieldByName(name); found && len(f.Index) == 1 && ok(f.Type) {
				return f.Index[0], nil
			}
		}
		return 0, fmt.Errorf("pbudget: %s is not a list operation's type (no suitable %s)", t, name)
	}
	strPtr := func(t reflect.Type) bool { return t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String }
	var err error
	if s.pageToken, err = field(pt, "PageToken", strPtr); err != nil {
		return s, err
	}
	if s.json200, err = field(rt, "JSON200", func(t reflect.Type) bool { return t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct }); err != nil {
		return s, err
	}
	lt, _ := rt.FieldByName("JSON200")
	body := lt.Type.Elem()
	if s.items, err = field(body, "Items", func(t reflect.Type) bool { return t.Kind() == reflect.Slice }); err != nil {
		return s, err
	}
	if s.next, err = field(body, "NextPageToken", strPtr); err != nil {
		return s, err
	}
	if got := body.Field(s.items).Type.Elem(); got != want {
		return s, fmt.Errorf("pbudget: %s lists %s, not %s", rt, got, want)
	}
	return s, nil
}
