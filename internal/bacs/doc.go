// Package bacs writes the files a payment run is exported as: a BACS Standard 18 file of direct
// credits to bank recipients, a prepaid-card load CSV and one remittance CSV per ISF provider
// (DOMAIN.md section 11, "Recipients and files"). It is pure: the same input gives the same
// bytes, so exporting a run again gives the same file.
//
// # Standard 18
//
// A file is fixed-width records, one per line (CR LF after each, as bureau software expects):
//
//	VOL1  80  volume header: submission serial number, service user number (SUN)
//	HDR1  80  file header 1: file identifier "A" + SUN + "S", set identification (the serial),
//	          section and sequence numbers, creation and expiry dates
//	HDR2  80  file header 2: fixed record format "F", block length 02000, record length 00100
//	UHL1  80  user header: processing day, receiving party 999999, currency 00, country 000000,
//	          work code "1 DAILY", file number
//	data  100 one per credit: destination sort code (6) and account number (8), account type 0,
//	          transaction code 99 (a credit), originating sort code (6) and account (8), 4 free,
//	          amount in pence (11, zero-filled), the originator's name (18), the reference (18),
//	          the destination account name (18)
//	contra 100 the debit of the originator's own account that balances the credits: its sort
//	          code and account twice, transaction code 17, the credits' total, "CONTRA" as the
//	          reference and the originator's account name
//	EOF1, EOF2 80  HDR1 and HDR2 again under their end-of-file labels
//	UTL1  80  user trailer: debit and credit totals (13 digits each) and item counts (7 each)
//
// Dates are Julian, " YYDDD" (a space, the year's last two digits, the day of the year). Text
// fields are upper case, left-justified and space-padded; numbers right-justified and zero-filled.
//
// Sources, since the standard itself is sold by Pay.UK (formerly Bacs Payment Schemes Limited)
// and not public: Bank of Ireland, "BACS File Specification" (appendix 2: VOL1 and HDR1 field by
// field); HSBC, "Message Implementation Guide BACS Standard 18" (August 2012: the record types
// VOL, HDR1, HDR2, UHL1, standard, contra, EOF1, EOF2, UTL1); FinDock, "Bacs Direct Debit
// collection file" (docs.findock.com: the record list and VOL mapping); IBM Sterling B2B, "Domestic
// format for the United Kingdom" (100-byte input records, Standard 18 v18/9 of 1 October 2002);
// Bank of Ireland statement layout (help-coins.theaccessgroup.com: sort code 1–6, account 7–14,
// transaction type 16–17, value in pence 36–46, description 65–82, Julian date YYDDD); the
// payroll.help.center note on the UHL1 date (bYYDDD, a processing day, within 31 days); the
// bacs-file-data-generator project's "Bacs Standard 18 Payment File" (the HDR2, UHL1, contra and
// UTL1 positions); and, for the character set (A–Z, 0–9, space, full stop, ampersand, solidus,
// hyphen), Paygate's "Allowed Characters" and Access PaySuite's "valid BACS characters". Check a
// first file with the council's bank or bureau before going live.
//
// # Names and references
//
// BACS fields take only the BACS character set. An account name is normalised where no judgement
// is needed — surrounding spaces trimmed, lower case letters upper-cased — and otherwise rejected,
// naming the character: it is confirmed by a second user against payment-diversion fraud, and what
// they confirmed must be what the bank receives, so nothing is transliterated behind their back
// ("Zoë O'Brien" is refused; the council types it as the bank holds it, e.g. "ZOE OBRIEN").
//
// # The CSV files
//
// Written with encoding/csv (RFC 4180, CR LF), a header row first, amounts in pounds with two
// decimals. Every reference in them must match [A-Za-z0-9][A-Za-z0-9./-]{0,34}: codes, never
// free text, so a person's name cannot slip into a provider's remittance and no cell can start a
// spreadsheet formula.
package bacs
