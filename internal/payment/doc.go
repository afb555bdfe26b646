// Package payment pays direct payments and Individual Service Funds in advance, exactly once
// (DOMAIN.md section 11, "Payment cycles", "Payment runs" and "Recipients and files").
//
// Its rules are pure (calendar.go, owed.go, schedule.go, run.go): a council's payment calendar and
// its cycles, what an agreement owes per cycle, an agreement's schedule, and the lines of a payment
// run. They have no database and no clock: the caller passes everything in, including what earlier
// runs took, and stores what comes out.
//
// The Service (service.go and the files beside it) is that caller: it keeps agreements' amounts,
// suspensions and endings, one-offs, recipients' sealed bank and card details, runs and their
// lines and files in a Store, and builds a run in batches (BuildRun, the background work a queue's
// worker calls), each batch one transaction that locks its agreements in id order, reads what they
// have taken set-based, builds their lines with the rules below and inserts them in one statement
// under the unique keys described here.
//
// # Cycles
//
// Each frequency has an anchor date. Four-weekly cycle k is [anchor + 28k, anchor + 28(k+1)),
// two-weekly 14 days, monthly a calendar month from the anchor's day of the month, clamped to the
// month's last day in shorter months (an anchor on the 31st gives cycles starting 31 January,
// 28 February, 31 March, 30 April …). k may be negative: agreements that began before the anchor
// have cycles too. A cycle is identified by its start date; an anchor must therefore never move
// once a cycle of its frequency has been paid, and an agreement's frequency never changes (a new
// frequency is a new agreement).
//
// # Rounding
//
// Every amount is integer pence and every division rounds to the nearest penny, halves up
// (money.DivRound), with these choices:
//
//   - Per cycle: the annual figure (net: the council's share; gross: the whole cost) ÷ 13, 26 or
//     12, rounded once. A whole cycle owes exactly this.
//   - Part cycles: Σ over the cycle's days owed of the per-cycle amount in force that day, ÷ days
//     in the cycle, rounded once per cycle. Days owed are days in a period in force, less days
//     suspended without back pay. A cycle split by a change of amount is therefore prorated
//     piecewise but rounded once: two half-cycles can never each round up a half penny. The
//     pieces shown in a schedule are apportioned by cumulative rounding (each piece is the
//     rounded running total less the previous rounded running total) so that they add up to the
//     cycle exactly.
//   - Σ owed over an agreement's days in force is then, by definition, the sum of its cycles'
//     owed amounts: within half a penny a cycle of the exact pro rata figure, and exact to the
//     penny for what runs pay, because runs pay only differences against it: a cycle line pays
//     the owed amount; each later change pays owed − taken as an adjustment; so for every cycle,
//     Σ of its cycle and adjustment lines = its owed amount as last computed.
//
// Carried and overpayment lines only move an agreement's negative net from one run to the next
// (or to recovery) and add up to zero over the runs that carry and bring forward; so over all
// runs Σ paid = Σ owed + Σ one-offs + Σ overpayments recorded for recovery (property-tested).
//
// # Storing lines so that the database enforces exactly once
//
// Store each Line with its run and the key below, under a unique index on the live lines (those
// of runs not cancelled, not held-and-released, not returned by the bank). With council_id leading
// every key:
//
//	cycle        UNIQUE (council_id, agreement_id, cycle_start)              WHERE kind = 'cycle'
//	adjustment   UNIQUE (council_id, agreement_id, cycle_start, seq)         WHERE kind = 'adjustment'
//	one_off      UNIQUE (council_id, agreement_id, one_off_id)               WHERE kind = 'one_off'
//	carried −    UNIQUE (council_id, agreement_id, carry)                    WHERE kind = 'carried' AND amount < 0
//	carried +    UNIQUE (council_id, run_id, agreement_id)                   WHERE kind = 'carried' AND amount > 0
//	overpayment  UNIQUE (council_id, run_id, agreement_id)                   WHERE kind = 'overpayment'
//
// (each WHERE also AND live). The cycle key makes a second payment of a cycle impossible across
// concurrent runs, retries and replays; the adjustment seq (1 + the highest seq taken for the
// cycle) makes two concurrent runs that computed the same adjustment collide instead of both
// paying it; a carried amount can be brought forward once. A run is built in one transaction
// from what is taken at its start; on a unique violation the transaction rolls back and the run
// is built again from the new state (or lock the agreements' rows, SELECT … FOR UPDATE in id
// order, before reading what they have taken). Lines are inserted, never updated in amount.
//
// Making a line not live: cancelling a draft run deletes its lines (or marks them dead); when a
// run is marked paid, its held lines are released from it, so their cycles are untaken and the
// next run takes them; a payment the bank returns makes all the agreement's lines of that run
// dead, with the reason. Because a run nets an agreement's lines into one payment, holds and
// returns act on all of an agreement's lines in a run together (Payments refuses a partial hold
// that would leave a negative payment).
//
// Inputs the caller derives: Taken (the live cycle and adjustment lines per agreement, with their
// status), Carries (live carried-forward lines not yet brought forward by a live line), OneOffs
// (approved, not yet in a live line), Block (not signed, plan no longer the approved one) and Hold
// (bank details awaiting a second user's confirmation). An ended agreement is not blocked: it gets
// no cycle lines after its end, but its adjustments still settle, and what it was overpaid is
// returned as an Overpayment to record for recovery.
package payment
