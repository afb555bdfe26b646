// Package account is the pure part of a direct-payment account (DOMAIN.md section 11, "DP
// accounts"): its ledger and balance, the import of its statements (a bank's, a prepaid card
// provider's, or another bank's export described by a Mapping), each statement line's identity,
// and the matching of spending to the plan's lines. It has no database and no clock.
//
// # The ledger
//
// A ledger is an opening balance and entries: council payments (in, posted when a payment run is
// paid), contributions due (a memo: they move no money, and the audit compares them with what
// was received), contributions received (in: net payments, where the person pays into the
// account), spending (out: statement lines), refunds (in), recoveries (out: money the council
// took back from the account) and adjustments (signed, with a reason). The balance at a date is
// the opening balance plus the signed sum of the entries up to and including that date: exact
// integer pence, independent of order (property-tested).
//
// Contributions due, net and gross. A net direct payment expects the person to pay their share
// into the account; a gross one pays the whole cost into it and the council invoices the person
// their share for each cycle paid. Both are the same entry: kind contribution_due, a positive
// amount and no effect on the balance (balance_pence 0), posted when a run pays the cycle (net:
// source contribution_cycle; gross: contribution_invoice), once per (account, cycle). When the
// bank returns a gross cycle's payment its invoice is reversed by a negative contribution_due
// (source contribution_invoice_reversal), and the run that pays the cycle again invoices it
// afresh: a cycle is invoiced once per payment of it that stands. The invoice is money the person owes the council, not money in or out of the account, so the
// balance stays the money the account holds; the audit compares contributions due with
// contributions received (the person's money paid into the account) and finds the shortfall
// the same way for both bases. An invoice the person pays to the council outside the account (to
// its debtors system) is recorded by finance as a contribution_paid_to_council entry: a memo
// too (balance_pence 0: the money is the council's, not the account's), whose source is the
// recorded payment (source contribution_payment). The audit counts it with the contributions
// received when it finds the shortfall, but not in the account's money: opening + council
// payments + contributions received into the account − spending is still the closing balance.
//
// # Statement lines and their identity
//
// Parse streams a CSV file (encoding/csv, record by record, nothing held but the current day's
// counts) and gives each good line a Key: SHA-256 of (account, date, amount, description,
// occurrence), where occurrence is the line's position among the lines with the same date,
// amount and description in that file. The balance, reference and merchant category are left
// out: some exports omit them, and they do not tell two otherwise identical payments apart.
//
// The rule that makes overlapping statements add each line once: for each (date, amount,
// description), a file that shows it m times stands for the keys occurrence 0 … m−1; the account
// keeps the union of the keys of every file imported, so it holds, for that triple, the largest
// number of times any one file showed it. Identical lines on one day are all kept (three £4.50
// coffees are keys 0, 1 and 2), and a second file that shows the same day again adds nothing.
// Identical lines are interchangeable, so which of them gets which occurrence does not matter,
// and neither does the order in which files are imported.
//
// The limit: the count is right when at least one imported file shows the day whole. A file
// that ends part-way through a day (a download taken at noon) is fine when a later file shows
// that day whole, and so is one that starts part-way through a day shown whole by another. But
// when a day is only ever seen split between two files (the morning in one, the afternoon in the
// other, and never the whole day), two identical lines split across them look like one: the
// account keeps the larger count, not the sum. Banks export whole days for a date range, so this
// arises only from a statement cut at a time of day and never re-downloaded; the import reports
// each file's first and last dates so that a reviewer can see such a seam (and a stated closing
// balance that then disagrees with the ledger shows it too).
//
// # Storing them (for the lead wiring this to PostgreSQL)
//
//   - statement_lines: one row per Key with council_id, account_id, line_key (bytea or the
//     64-character hex), the parsed fields, the statement import it came from, and its match
//     (plan_line_id or flag, by, reason); UNIQUE (council_id, account_id, line_key). Import in
//     one transaction: INSERT … ON CONFLICT (council_id, account_id, line_key) DO NOTHING, in
//     batches as Parse calls each; roll back when Parse returns an error (a bad line anywhere:
//     nothing is imported); report inserted versus already present. Re-importing the same file
//     inserts nothing.
//   - ledger_entries: append-only (no UPDATE or DELETE granted to the runtime role), with
//     council_id, account_id, kind, entry date, amount_pence (CHECK amount_pence > 0 unless kind
//     = 'adjustment', then <> 0), reason, and exactly one source: a payment run line
//     (UNIQUE (council_id, run_line_id): posted once when the run is paid), a statement line
//     (UNIQUE (council_id, statement_line_id): a line makes at most one entry; a Match with Post
//     false — the council's own payment coming in — makes none), a contribution cycle
//     (UNIQUE (council_id, account_id, kind, cycle_start) for contribution_due), a recovery, or a
//     person (a manual adjustment, audited). A mistake is corrected by an adjustment entry, never
//     by changing an entry. Index (council_id, account_id, entry_date, id) serves the ledger's
//     cursor and the balance at a date (SUM(signed amount) WHERE entry_date <= $at).
//   - flags: a flag's resolution (accepted, misspend, evidenced later; a note; who, when) lives
//     beside the statement line, and the line itself never changes.
package account
