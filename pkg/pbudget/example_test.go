package pbudget_test

// These examples run against a real pbudget server in `go test` (see main_test.go): PBUDGET_URL
// and PBUDGET_TOKEN name it and a practitioner of a council that only the examples use. Example
// (the first, by name) lists every person of that council, so the others give their people
// family names of their own and list only those.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/pbudget/pbudget/pkg/client"
	"github.com/pbudget/pbudget/pkg/pbudget"
)

// Create a person, then list every person of the council, page after page.
func Example() {
	ctx := context.Background()
	c, err := pbudget.New(os.Getenv("PBUDGET_URL"), pbudget.WithBearerToken(os.Getenv("PBUDGET_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	created, err := c.CreatePersonWithResponse(ctx, nil, client.PersonCreate{
		GivenName: "Sam", FamilyName: "Okafor", DateOfBirth: pbudget.Date(1961, time.February, 28),
		PersonType: client.PersonTypeAdult,
	})
	if err != nil {
		log.Fatal(err) // a *pbudget.Problem: status, type, detail, field errors, request id
	}
	fmt.Println("created", created.JSON201.GivenName, created.JSON201.FamilyName)

	for p, err := range pbudget.All[client.Person](ctx, c.ListPeopleWithResponse, nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(p.GivenName, p.FamilyName, p.DateOfBirth)
	}
	// Output:
	// created Sam Okafor
	// Sam Okafor 1961-02-28
}

// A refused request is a *pbudget.Problem: the status, the problem's type, and the fields at fault.
func ExampleProblem() {
	c, err := pbudget.New(os.Getenv("PBUDGET_URL"), pbudget.WithBearerToken(os.Getenv("PBUDGET_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	nhs := "943 476 5918" // the check digit should be 9
	_, err = c.CreatePersonWithResponse(context.Background(), nil, client.PersonCreate{
		GivenName: "Ada", FamilyName: "Refused", DateOfBirth: pbudget.Date(1950, time.July, 1),
		PersonType: client.PersonTypeAdult, NhsNumber: &nhs,
	})
	var p *pbudget.Problem
	if errors.As(err, &p) {
		fmt.Println(p.Status, p.Code(), p.RequestID != "")
		for _, fe := range p.Errors {
			fmt.Println(fe.Field, fe.Code)
		}
	}
	// Output:
	// 400 validation true
	// /nhs_number nhs_number_check_digit
}

// Filters and a page size go in the list operation's params; All fetches the pages.
func ExampleAll() {
	ctx := context.Background()
	c, err := pbudget.New(os.Getenv("PBUDGET_URL"), pbudget.WithBearerToken(os.Getenv("PBUDGET_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	for _, given := range []string{"Ann", "Ben", "Cas"} {
		_, err := c.CreatePersonWithResponse(ctx, nil, client.PersonCreate{
			GivenName: given, FamilyName: "Paged", DateOfBirth: pbudget.Date(1970, time.March, 3), PersonType: client.PersonTypeAdult,
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	size, prefix := 2, "Pag"
	params := &client.ListPeopleParams{FamilyNamePrefix: &prefix, PageSize: &size}
	for p, err := range pbudget.All[client.Person](ctx, c.ListPeopleWithResponse, params) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(p.GivenName, p.FamilyName)
	}
	// Output:
	// Ann Paged
	// Ben Paged
	// Cas Paged
}

// A change carries the ETag of the version it was made from; a change made from a stale version
// is refused with 412, so that nobody's update is lost.
func ExampleIfMatch() {
	ctx := context.Background()
	c, err := pbudget.New(os.Getenv("PBUDGET_URL"), pbudget.WithBearerToken(os.Getenv("PBUDGET_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	created, err := c.CreatePersonWithResponse(ctx, nil, client.PersonCreate{
		GivenName: "Jo", FamilyName: "Versioned", DateOfBirth: pbudget.Date(1980, time.May, 17), PersonType: client.PersonTypeAdult,
	})
	if err != nil {
		log.Fatal(err)
	}
	etag := pbudget.ETag(created.HTTPResponse)

	preferred := "Joanna"
	updated, err := c.UpdatePersonWithResponse(ctx, created.JSON201.Id, nil,
		client.PersonPatch{GivenName: &preferred}, pbudget.IfMatch(etag))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(updated.JSON200.GivenName, "version", updated.JSON200.Version)

	_, err = c.UpdatePersonWithResponse(ctx, created.JSON201.Id, nil,
		client.PersonPatch{GivenName: &preferred}, pbudget.IfMatch(etag))
	fmt.Println("stale:", errors.Is(err, pbudget.ErrPreconditionFailed))
	// Output:
	// Joanna version 2
	// stale: true
}

// A token source is asked before every request: this one fetches from the council's identity
// provider (here, the environment) and keeps the token until a minute before it expires.
func ExampleNewRefreshingTokenSource() {
	tokens := pbudget.NewRefreshingTokenSource(func(ctx context.Context) (string, time.Time, error) {
		// A real integration asks its identity provider for a token here.
		return os.Getenv("PBUDGET_TOKEN"), time.Now().Add(time.Hour), nil
	})
	c, err := pbudget.New(os.Getenv("PBUDGET_URL"), pbudget.WithTokenSource(tokens))
	if err != nil {
		log.Fatal(err)
	}
	r, err := c.ListPeopleWithResponse(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.StatusCode())
	// Output: 200
}
