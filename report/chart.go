package report

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Chart sizes: wide enough for eight categories side by side, small
// enough to sit in a mail without scrolling.
const (
	chartWidth  = 18 * vg.Centimeter
	chartHeight = 9 * vg.Centimeter
)

// Chart writes a PNG bar chart of the cases opened and closed in the
// period per category, for the weekly mail (the workbook has its own,
// native charts).
func Chart(w io.Writer, f Figures, l Labels) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s, %s – %s", l.ChartTitle, f.From, f.To)
	p.Y.Label.Text = l.Count
	var names []string
	var opened, closed plotter.Values
	top := 0
	for _, r := range f.ByCategory {
		if r.Opened == 0 && r.Closed == 0 {
			continue
		}
		names = append(names, l.key(r.Key, false))
		opened, closed = append(opened, float64(r.Opened)), append(closed, float64(r.Closed))
		top = max(top, r.Opened, r.Closed)
	}
	if len(names) == 0 {
		// An empty week still gets a chart, with one empty group.
		names, opened, closed = []string{l.None}, plotter.Values{0}, plotter.Values{0}
	}
	width := vg.Points(min(24, 300/float64(2*len(names))))
	for i, s := range []struct {
		name   string
		values plotter.Values
		color  color.Color
	}{
		{l.Opened, opened, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
		{l.Closed, closed, color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}},
	} {
		bars, err := plotter.NewBarChart(s.values, width)
		if err != nil {
			return fmt.Errorf("chart: %w", err)
		}
		bars.Color = s.color
		bars.LineStyle.Width = 0
		bars.Offset = width * vg.Length(2*i-1) / 2
		p.Add(bars)
		p.Legend.Add(s.name, bars)
	}
	p.Legend.Top = true
	p.NominalX(names...)
	p.Y.Min, p.Y.Max = 0, float64(max(top, 1))*1.15
	p.Y.Tick.Marker = integerTicks{}
	wt, err := p.WriterTo(chartWidth, chartHeight, "png")
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	return nil
}

// integerTicks marks whole numbers only: the axis counts cases.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	step := math.Max(1, math.Ceil((hi-lo)/6))
	var ticks []plot.Tick
	for v := math.Ceil(lo); v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
	}
	return ticks
}
