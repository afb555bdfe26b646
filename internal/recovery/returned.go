package recovery

// ReturnOffset undoes, on a recovery, an offset a paid run took whose payment the bank returned:
// the council kept money back from a payment that never arrived, so what paying the run recorded
// recovered of it (amount: the run's credit, which may be less than the line's offset when money
// was recorded another way before the run was paid) was not recovered after all. It gives the recovery after it and the amount taken off what was recovered (at most
// what was recorded recovered). The state follows the money back: recovered or part recovered
// becomes part recovered, or notified when nothing is left recovered, so that runs take the
// offset again; a disputed recovery stays paused; a written-off one stays written off, the
// returned amount joining what will not be recovered (finance decided to stop recovering the
// rest, and the rest is now larger).
func ReturnOffset(r Recovery, amount int64) (Recovery, int64) {
	back := min(amount, r.Recovered)
	if back <= 0 {
		return r, 0
	}
	next := r
	next.Recovered -= back
	switch r.State {
	case Recovered, PartRecovered:
		next.State = PartRecovered
		if next.Recovered == 0 {
			next.State = Notified
		}
	case WrittenOff:
		next.WrittenOff += back
	}
	return next, back
}
