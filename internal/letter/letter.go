// Package letter renders the letters a council sends a person as PDF, in one plain layout: the
// council and the letter's heading, the date and the person's reference, the address lines the
// council chooses, sections of paragraphs and figures tables, and a footer on every page. The
// audit letter (Audit) is built on it; letters for the indicative and the agreed budget can be
// built the same way, as a Letter of their own sections.
//
// The PDF is written with github.com/go-pdf/fpdf and the standard Helvetica font (not embedded:
// every PDF reader has it), A4, uncompressed, with its creation and modification dates set to
// the letter's date and a fixed producer, so the same letter is always the same bytes: a letter
// can be regenerated for an appeal exactly as it was sent, and tests compare it with a golden
// file and read its text straight from the content stream. Letters are a few kilobytes, so
// compression would save nothing worth the loss.
package letter

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"

	"github.com/go-pdf/fpdf"

	"github.com/pbudget/pbudget/internal/apperr"
	"github.com/pbudget/pbudget/internal/date"
)

// Letter is one letter, in the order it is printed.
type Letter struct {
	Council   string    // the council's name, at the top
	Heading   string    // what the letter is about: "Your direct payment audit"
	Date      date.Date // the letter's date (also the PDF's creation date)
	Reference string    // the person's reference: the letter never needs their name to be found again
	Addressee []string  // the address block, as the council chooses (may be empty: a letter sent by secure email)
	Sections  []Section
	Footer    string // the council's contact line, on every page
}

// Section is a part of a letter: an optional heading, paragraphs, then an optional figures table.
type Section struct {
	Heading    string
	Paragraphs []string
	Figures    []Figure
}

// Figure is one row of a figures table.
type Figure struct {
	Label    string
	Value    string // already formatted ("£1,234.56", "8 weeks")
	Emphasis bool   // a result row (totals, the surplus), in bold
}

// Producer is the PDF's producer field: fixed, so that the bytes do not depend on a version.
const Producer = "pbudget"

// Limits of a letter's texts.
const (
	maxLine      = 300  // a heading, label, address line or value
	maxParagraph = 4000 // a paragraph
	maxSections  = 50
)

// Render returns the letter as a PDF.
func Render(l Letter) ([]byte, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(false)
	pdf.SetCatalogSort(true)
	when := l.Date.Time()
	pdf.SetCreationDate(when)
	pdf.SetModificationDate(when)
	pdf.SetProducer(Producer, false)
	pdf.SetTitle(l.Heading, true)
	pdf.SetMargins(20, 20, 20)
	pdf.SetAutoPageBreak(true, 25)
	pdf.AliasNbPages("{nb}")
	cp := pdf.UnicodeTranslatorFromDescriptor("") // Helvetica speaks cp1252: £, ×, – and ’ included
	tr := func(s string) string { return cp(plain.Replace(s)) }
	pdf.SetFooterFunc(func() {
		pdf.SetY(-18)
		pdf.SetFont("Helvetica", "", 8)
		pdf.SetTextColor(90, 90, 90)
		if l.Footer != "" {
			pdf.CellFormat(0, 4, tr(l.Footer), "", 1, "C", false, 0, "")
		}
		pdf.CellFormat(0, 4, tr(fmt.Sprintf("Reference %s · page %d of {nb}", l.Reference, pdf.PageNo())), "", 0, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()
	width, _ := pdf.GetPageSize()
	text := width - 40

	pdf.SetFont("Helvetica", "B", 13)
	pdf.CellFormat(text, 7, tr(l.Council), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.CellFormat(text, 5, tr(l.Date.Long()), "", 1, "R", false, 0, "")
	pdf.CellFormat(text, 5, tr("Our reference: "+l.Reference), "", 1, "R", false, 0, "")
	pdf.Ln(4)
	for _, a := range l.Addressee {
		pdf.CellFormat(text, 5, tr(a), "", 1, "L", false, 0, "")
	}
	pdf.Ln(6)
	pdf.SetFont("Helvetica", "B", 16)
	pdf.MultiCell(text, 8, tr(l.Heading), "", "L", false)
	pdf.Ln(3)

	for _, s := range l.Sections {
		if s.Heading != "" {
			pdf.Ln(2)
			pdf.SetFont("Helvetica", "B", 12)
			pdf.MultiCell(text, 6, tr(s.Heading), "", "L", false)
			pdf.Ln(1)
		}
		pdf.SetFont("Helvetica", "", 11)
		for _, p := range s.Paragraphs {
			pdf.MultiCell(text, 5.5, tr(p), "", "L", false)
			pdf.Ln(2)
		}
		if len(s.Figures) > 0 {
			labelW, valueW := text*0.7, text*0.3
			pdf.SetDrawColor(190, 190, 190)
			for _, f := range s.Figures {
				style := ""
				if f.Emphasis {
					style = "B"
				}
				pdf.SetFont("Helvetica", style, 10.5)
				pdf.CellFormat(labelW, 6.5, tr(f.Label), "B", 0, "L", false, 0, "")
				pdf.CellFormat(valueW, 6.5, tr(f.Value), "B", 1, "R", false, 0, "")
			}
			pdf.Ln(4)
		}
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, apperr.ErrInternal.Wrap(err)
	}
	return out.Bytes(), nil
}

// plain turns the few characters the service writes that cp1252 lacks into ones it has.
var plain = strings.NewReplacer("−", "–", "→", "to", "≤", "at most", "≥", "at least", "\u00a0", " ")

// ErrLetter is a letter that cannot be printed as given.
var ErrLetter = apperr.New(apperr.Invalid, "letter-invalid", "the letter cannot be printed")

func (l Letter) validate() error {
	var f apperr.Fields
	line := func(ptr, s string, required bool, max int) {
		switch {
		case required && strings.TrimSpace(s) == "":
			f.Add(ptr, "required", "required")
		case len([]rune(s)) > max:
			f.Add(ptr, "too_long", fmt.Sprintf("at most %d characters", max))
		case strings.IndexFunc(s, unicode.IsControl) >= 0:
			f.Add(ptr, "text", "no control characters (line breaks are separate paragraphs)")
		}
	}
	line("/council", l.Council, true, maxLine)
	line("/heading", l.Heading, true, maxLine)
	line("/reference", l.Reference, true, 64)
	line("/footer", l.Footer, false, maxLine)
	if l.Date == (date.Date{}) || l.Date.Year() < 2000 {
		f.Add("/date", "required", "a letter is dated")
	}
	if len(l.Addressee) > 8 {
		f.Add("/addressee", "too_long", "at most 8 address lines")
	}
	for i, a := range l.Addressee {
		line(fmt.Sprintf("/addressee/%d", i), a, false, maxLine)
	}
	if len(l.Sections) > maxSections {
		f.Add("/sections", "too_long", fmt.Sprintf("at most %d sections", maxSections))
	}
	for i, s := range l.Sections {
		at := fmt.Sprintf("/sections/%d", i)
		line(at+"/heading", s.Heading, false, maxLine)
		for j, p := range s.Paragraphs {
			line(fmt.Sprintf("%s/paragraphs/%d", at, j), p, true, maxParagraph)
		}
		for j, fig := range s.Figures {
			line(fmt.Sprintf("%s/figures/%d/label", at, j), fig.Label, true, maxLine)
			line(fmt.Sprintf("%s/figures/%d/value", at, j), fig.Value, true, 60)
		}
	}
	if len(f) > 0 {
		e := ErrLetter.WithMessage("the letter cannot be printed: %s %s", f[0].Field, f[0].Message)
		e.Fields = f
		return e
	}
	return nil
}
