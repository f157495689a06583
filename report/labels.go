package report

import "strings"

// Labels are the words of a rendered report, in one language. CSV and
// JSON do not use them: their column names and keys are stable English
// identifiers for programs.
type Labels struct {
	Lang string

	Title, AsOf                            string
	Opened, Closed                         string
	LegalDeadlines, FirstAnswerDeadlines   string
	Due, Met, Missed, Pending, OnTime      string
	FirstAnswers, Median, P90, WorkingTime string
	OpenAtEnd, PastLegalDue, Merged        string
	RepeatDefectsCount                     string

	Backlog, AgeDays, Count string

	// Sheet and section names.
	Summary, ByCategory, ByRemedy, ByProduct, BySpecialist, RepeatDefects string

	// Columns of the breakdowns and of the repeat defects.
	Category, Remedy, Product, Specialist, Name           string
	ColOpened, ColClosed                                  string
	Open, LegalMet, LegalMissed, FirstMet, FirstMissed    string
	Answered, MedianHours                                 string
	Kind, Value, Cases, InPeriod, KindProduct, KindSerial string
	CaseIDs                                               string

	// None is shown for a case without the key (no category, no product);
	// Unassigned for a case without a specialist.
	None, Unassigned string

	// ChartTitle heads the chart of cases by category.
	ChartTitle string
}

// LabelsFor returns the labels of lang: Polish for "pl" (and "pl-PL"),
// English otherwise.
func LabelsFor(lang string) Labels {
	if l := strings.ToLower(lang); l == "pl" || strings.HasPrefix(l, "pl-") {
		return polish()
	}
	return english()
}

func english() Labels {
	return Labels{
		Lang:                 "en",
		Title:                "Claims report",
		AsOf:                 "As of",
		Opened:               "Cases opened",
		Closed:               "Cases closed",
		LegalDeadlines:       "Legal deadlines in the period",
		FirstAnswerDeadlines: "First-answer deadlines in the period",
		Due:                  "due",
		Met:                  "met",
		Missed:               "missed",
		Pending:              "pending",
		OnTime:               "on time",
		FirstAnswers:         "First answers in the period",
		Median:               "median",
		P90:                  "90th percentile",
		WorkingTime:          "working hours from receipt",
		OpenAtEnd:            "Open at the end of the period",
		PastLegalDue:         "past the legal deadline",
		Merged:               "Merged cases left out",
		RepeatDefectsCount:   "Repeat defects",
		Backlog:              "Backlog by age",
		AgeDays:              "Days since receipt",
		Count:                "Cases",
		Summary:              "Summary",
		ByCategory:           "By category",
		ByRemedy:             "By remedy",
		ByProduct:            "By product",
		BySpecialist:         "By specialist",
		RepeatDefects:        "Repeat defects",
		Category:             "Category",
		Remedy:               "Remedy",
		Product:              "Product",
		Specialist:           "Specialist",
		Name:                 "Name",
		ColOpened:            "Opened",
		ColClosed:            "Closed",
		Open:                 "Open",
		LegalMet:             "Legal met",
		LegalMissed:          "Legal missed",
		FirstMet:             "1st answer met",
		FirstMissed:          "1st answer missed",
		Answered:             "Answered",
		MedianHours:          "Median h to 1st answer",
		Kind:                 "Kind",
		Value:                "Value",
		Cases:                "Cases",
		CaseIDs:              "Case numbers",
		InPeriod:             "In the period",
		KindProduct:          "product / SKU",
		KindSerial:           "serial number",
		None:                 "(none)",
		Unassigned:           "(unassigned)",
		ChartTitle:           "Cases by category",
	}
}

func polish() Labels {
	return Labels{
		Lang:                 "pl",
		Title:                "Raport reklamacji",
		AsOf:                 "Stan na",
		Opened:               "Nowe sprawy",
		Closed:               "Sprawy zamknięte",
		LegalDeadlines:       "Terminy ustawowe w okresie",
		FirstAnswerDeadlines: "Terminy pierwszej odpowiedzi w okresie",
		Due:                  "przypadające",
		Met:                  "dotrzymane",
		Missed:               "przekroczone",
		Pending:              "w toku",
		OnTime:               "w terminie",
		FirstAnswers:         "Pierwsze odpowiedzi w okresie",
		Median:               "mediana",
		P90:                  "90. percentyl",
		WorkingTime:          "godziny pracy od wpłynięcia",
		OpenAtEnd:            "Otwarte na koniec okresu",
		PastLegalDue:         "po terminie ustawowym",
		Merged:               "Sprawy scalone (pominięte)",
		RepeatDefectsCount:   "Powtarzające się wady",
		Backlog:              "Zaległości według wieku",
		AgeDays:              "Dni od wpłynięcia",
		Count:                "Sprawy",
		Summary:              "Podsumowanie",
		ByCategory:           "Kategorie",
		ByRemedy:             "Żądania",
		ByProduct:            "Produkty",
		BySpecialist:         "Specjaliści",
		RepeatDefects:        "Powtarzające się wady",
		Category:             "Kategoria",
		Remedy:               "Żądanie",
		Product:              "Produkt",
		Specialist:           "Specjalista",
		Name:                 "Imię i nazwisko",
		ColOpened:            "Nowe",
		ColClosed:            "Zamknięte",
		Open:                 "Otwarte",
		LegalMet:             "Ustawowy dotrzymany",
		LegalMissed:          "Ustawowy przekroczony",
		FirstMet:             "1. odp. w terminie",
		FirstMissed:          "1. odp. po terminie",
		Answered:             "Z odpowiedzią",
		MedianHours:          "Mediana h do 1. odp.",
		Kind:                 "Rodzaj",
		Value:                "Wartość",
		Cases:                "Sprawy",
		CaseIDs:              "Numery spraw",
		InPeriod:             "W okresie",
		KindProduct:          "produkt / SKU",
		KindSerial:           "numer seryjny",
		None:                 "(brak)",
		Unassigned:           "(nieprzypisane)",
		ChartTitle:           "Sprawy według kategorii",
	}
}

// key shows a breakdown key, or what stands for none.
func (l Labels) key(k string, specialist bool) string {
	switch {
	case k != "":
		return k
	case specialist:
		return l.Unassigned
	}
	return l.None
}

// kind names a repeat defect's kind.
func (l Labels) kind(k string) string {
	switch k {
	case RepeatProduct:
		return l.KindProduct
	case RepeatSerial:
		return l.KindSerial
	}
	return k
}

// breakdowns lists the four breakdowns of f with their titles and key
// columns, in the order every renderer shows them.
func (l Labels) breakdowns(f Figures) []breakdownView {
	return []breakdownView{
		{id: "by_category", title: l.ByCategory, column: l.Category, rows: f.ByCategory},
		{id: "by_remedy", title: l.ByRemedy, column: l.Remedy, rows: f.ByRemedy},
		{id: "by_product", title: l.ByProduct, column: l.Product, rows: f.ByProduct},
		{id: "by_specialist", title: l.BySpecialist, column: l.Specialist, rows: f.BySpecialist, specialist: true},
	}
}

// breakdownView is one breakdown as renderers show it.
type breakdownView struct {
	id, title, column string
	rows              []Row
	specialist        bool
}
