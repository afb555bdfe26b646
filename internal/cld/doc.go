// Package cld writes NHS England's Adult Social Care Client Level Data (CLD) return: the quarterly
// CSV of a council's Assessment, Service and Review events (DOMAIN.md sections 9 and 11), streamed
// row by row, with a validation report of the records the council must fix before submitting.
//
// # What goes in a quarter
//
// Quarters are financial-year quarters (Q1 April–June … Q4 January–March); a return is due one
// month after its quarter ends (Quarter.Due). The events are:
//
//   - Assessment: assessments completed in the quarter (children's are left out: CLD is adult
//     social care);
//   - Service: plan lines in force for at least one day of the quarter. A line that ended before
//     the quarter, or starts after it, is absent. A line still running after the quarter's last
//     day has no Event_End_Date (CLD's open service); a line that ends within it has its last day.
//     A line of a plan superseded by a revision ends the day before the revision takes effect;
//   - Review: reviews held in the quarter.
//
// Submissions append, so each row's Event_Reference is stable: the kind of event and the id of the
// pbudget record it comes from (ASM-, SRV-, REV- and the UUID), the same in every re-export.
//
// # Mappings
//
//   - Delivery_Mechanism from the line's management option: direct_payment → "Direct Payment";
//     council_managed and isf → "CASSR Managed Personal Budget". "Part direct payment" is not on
//     the defined list: NHS England derives it from the mix of a person's service rows (CLD
//     guidance, Release 1, "Delivery mechanism"), so nothing is written for it.
//   - Service_Type from the category's cld_service_type (ServiceTypeFor); Service_Component from
//     the council's mapping of category keys (Config.Components; DefaultComponents holds only the
//     values that could be verified). A category without a component is reported, not guessed.
//   - Unit_Cost is the line's gross unit cost (the person's contribution included), in pounds with
//     two decimals, exactly from pence. Cost_Frequency_(Unit_Type) is what the unit cost is for
//     (CostFrequencyFor); Planned_units_per_week is given where units are hours or days.
//   - Client_Type: "Carer" for a carer's own assessment, budget or review, else "Service User".
//
// # Sources, and what could not be verified
//
// The CLD Release 1 specification itself (NHS England / DHSC, valid from 1 April 2023) was not
// available to this package's authors. The column names and values come from:
//
//   - the data items of Release 1 as one council maps its submission table into NHS England's
//     analysis schema (a view "CLD.CLD_R1_Raw" in public SQL: "[Event Reference] →
//     [Event_Reference]", "[Cost Frequency (Unit Type)] → [Cost_Frequency_Unit_Type]", …): the
//     list and order of Columns;
//   - NHS England's published SQL that reproduces SALT and ASCOF from CLD
//     (github.com/NHSDigital/ASC-Client-Level-Data-SALT-ASCOF-transformations): Event_Type values,
//     Service_Type values, Delivery_Mechanism values, Client_Type values, Event_Outcome values,
//     Primary_Support_Reason values, and the "Event Reference Number" item;
//   - the CLD guidance, Release 1 (February 2023), as quoted by the adult social care glossary
//     (marketingteam125.wixsite.com/ascglossary): Delivery_Mechanism (and that part direct
//     payment is derived), Review_Reason, Review_Outcomes_Achieved ("Fully Met", "Partially Met",
//     "Not Met" and how they are decided), Assessment_Type ("Long Term Assessment" when
//     eligibility is decided), Planned_units_per_week (numeric, two decimals; required where the
//     unit cost is more frequent than weekly);
//   - NHS England's data-quality checks of Release 1 (public SQL over DHSC_ASC.CLD_DQ_Items_R1):
//     which items are mandatory for which events, and the Service_Component values "Home
//     Support", "Short Term Residential Care", "Short Term Nursing Care", "Carer Respite",
//     "Shared Lives", "Community Supported Living" and "Extra care housing".
//
// Not verified, and kept in one place each so that they are easy to correct:
//
//   - the header: NHS England's tables name the columns with the specification's item names,
//     spaces replaced by underscores (Cost_Frequency_(Unit_Type), Request:_Route_of_Access), and
//     so does DOMAIN.md; whether the submission portal expects those or the spaced item names
//     ("Cost Frequency (Unit Type)") is unverified. Column.Header derives one from the other;
//   - the complete Service_Component list (DefaultComponents maps only verified values);
//   - the Cost_Frequency_(Unit_Type) values: DOMAIN.md's list (hourly, daily, weekly, fortnightly,
//     4-weekly, monthly, quarterly, annually, one-off), capitalised here as a guess;
//   - Eligible_Needs_Identified's values ("Yes", "No");
//   - the exact spelling of the Event_Outcome values used for reviews and assessments (NHS
//     England's own code spells some two ways, e.g. "NFA - Support ended: Other reason");
//   - the date format (ISO 8601 here) and whether First_Name and Last_Name are still collected
//     (left blank: NHS England's data-quality checks do not test them, and less personal data
//     leaves the council);
//   - the mapping choices, which are pbudget's: short_term → "Short Term Support: Other Short
//     Term", equipment → "Short Term Support: Ongoing Low Level", and an ineligible assessment's
//     outcome "NFA - Information & Advice / Signposting only".
//
// Columns pbudget does not record (gender, ethnicity, primary support reason, accommodation and
// employment status, GP practice, methods of assessment and review, CQC locations …) are left
// blank and named once in the Summary rather than on every record.
package cld
