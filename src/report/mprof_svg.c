/* mprof_svg.c - the memory timeline as SVG (see mprof_svg.h).
 *
 * Geometry is computed here and written as plain SVG elements; the look
 * (fonts, colours of the axes) is a small <style> block so a user can
 * restyle the file.  Coordinates are rounded to 0.1 px to keep files of
 * long runs small.
 */
#include "mprof_svg.h"

#include <math.h>
#include <string.h>

#define WIDTH 960.0
#define HEIGHT 540.0
#define LEFT 80.0
#define RIGHT 200.0     /* room for the legend */
#define TOP 50.0
#define BOTTOM 60.0

static const char *const palette[] = {
    "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e", "#1f77b4",
};
#define NCOLORS (sizeof(palette) / sizeof(palette[0]))

void
pyprof_svg_escape(pyprof_sink_t *sink, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        switch (*p) {
        case '&': pyprof_sink_puts(sink, "&amp;"); break;
        case '<': pyprof_sink_puts(sink, "&lt;"); break;
        case '>': pyprof_sink_puts(sink, "&gt;"); break;
        case '"': pyprof_sink_puts(sink, "&quot;"); break;
        case '\'': pyprof_sink_puts(sink, "&#39;"); break;
        default:
            pyprof_sink_putc(sink, (*p < 0x20 && *p != '\t') || *p == 0x7f
                                       ? ' ' : *p);
        }
    }
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) giving about
 * `target` ticks over `range`. */
static double
tick_step(double range, int target)
{
    if (!(range > 0)) {
        return 1;
    }
    double raw = range / target;
    double power = pow(10, floor(log10(raw)));
    double fraction = raw / power;
    double nice = fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5
                                                                 ? 5 : 10;
    return nice * power;
}

typedef struct {
    double t0, tmax, ymax;
} scale_t;

static double
x_of(const scale_t *s, double t)
{
    return LEFT + (t - s->t0) / s->tmax * (WIDTH - LEFT - RIGHT);
}

static double
y_of(const scale_t *s, double mib)
{
    return HEIGHT - BOTTOM - mib / s->ymax * (HEIGHT - TOP - BOTTOM);
}

static void
write_axes(pyprof_sink_t *sink, const scale_t *s)
{
    double x0 = LEFT, x1 = WIDTH - RIGHT, y0 = HEIGHT - BOTTOM, y1 = TOP;
    pyprof_sink_printf(sink,
                       "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" "
                       "width=\"%.1f\" height=\"%.1f\"/>\n",
                       x0, y1, x1 - x0, y0 - y1);
    double step = tick_step(s->tmax, 8);
    for (double t = 0; t <= s->tmax * 1.0000001; t += step) {
        double x = x_of(s, s->t0 + t);
        pyprof_sink_printf(sink,
                           "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" "
                           "x2=\"%.1f\" y2=\"%.1f\"/>\n"
                           "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
                           "text-anchor=\"middle\">%g</text>\n",
                           x, y0, x, y1, x, y0 + 18, t);
    }
    step = tick_step(s->ymax, 6);
    for (double m = 0; m <= s->ymax * 1.0000001; m += step) {
        double y = y_of(s, m);
        pyprof_sink_printf(sink,
                           "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" "
                           "x2=\"%.1f\" y2=\"%.1f\"/>\n"
                           "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
                           "text-anchor=\"end\">%g</text>\n",
                           x0, y, x1, y, x0 - 6, y + 4, m);
    }
    pyprof_sink_printf(sink,
                       "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" "
                       "text-anchor=\"middle\">time (in seconds)</text>\n",
                       (x0 + x1) / 2, HEIGHT - 15);
    pyprof_sink_printf(sink,
                       "<text class=\"label\" x=\"20\" y=\"%.1f\" "
                       "text-anchor=\"middle\" transform=\"rotate(-90 20 "
                       "%.1f)\">memory used (in MiB)</text>\n",
                       (y0 + y1) / 2, (y0 + y1) / 2);
}

static void
write_polyline(pyprof_sink_t *sink, const scale_t *s,
               const pyprof_mprof_point_t *points, size_t n,
               const int *index, int only, const char *cls)
{
    pyprof_sink_printf(sink, "<polyline class=\"%s\" points=\"", cls);
    for (size_t i = 0; i < n; i++) {
        if (index != NULL && index[i] != only) {
            continue;
        }
        pyprof_sink_printf(sink, "%.1f,%.1f ", x_of(s, points[i].timestamp),
                           y_of(s, points[i].mib));
    }
    pyprof_sink_puts(sink, "\"/>\n");
}

/* A bracket like mprof's: a vertical bar spanning the function's memory
 * at the call's edge, with short ticks pointing into the call. */
static void
write_bracket(pyprof_sink_t *sink, const scale_t *s, double t, double lo,
              double hi, double direction, const char *color)
{
    double x = x_of(s, t), ylo = y_of(s, lo), yhi = y_of(s, hi);
    if (fabs(ylo - yhi) < 6) {
        ylo += 3;
        yhi -= 3;
    }
    double tick = 6 * direction;
    pyprof_sink_printf(sink,
                       "<path class=\"bracket\" stroke=\"%s\" d=\"M%.1f,%.1f"
                       " H%.1f V%.1f H%.1f\"/>\n",
                       color, x + tick, ylo, x, yhi, x + tick);
}

void
pyprof_mprof_svg_write(pyprof_sink_t *sink, const pyprof_mprof_data_t *data,
                       const char *title)
{
    scale_t s = {data->mem[0].timestamp, 0, 0};
    size_t peak = 0;
    for (size_t i = 0; i < data->nmem; i++) {
        if (data->mem[i].timestamp < s.t0) {
            s.t0 = data->mem[i].timestamp;
        }
    }
    for (size_t i = 0; i < data->nmem; i++) {
        s.tmax = fmax(s.tmax, data->mem[i].timestamp - s.t0);
        if (data->mem[i].mib > data->mem[peak].mib) {
            peak = i;
        }
    }
    double top = data->mem[peak].mib;
    for (size_t i = 0; i < data->nchld; i++) {
        top = fmax(top, data->chld[i].mib);
    }
    for (size_t i = 0; i < data->nfuncs; i++) {
        top = fmax(top, fmax(data->funcs[i].mem_start,
                             data->funcs[i].mem_end));
        s.tmax = fmax(s.tmax, data->funcs[i].t_end - s.t0);
    }
    if (!(s.tmax > 0)) {
        s.tmax = 1;     /* one sample: a point at t = 0 */
    }
    s.ymax = top > 0 ? top * 1.1 : 1;

    pyprof_sink_printf(sink,
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                       "width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\">\n",
                       WIDTH, HEIGHT, WIDTH, HEIGHT);
    pyprof_sink_puts(sink,
                     "<style>\n"
                     "text { font-family: sans-serif; font-size: 12px; }\n"
                     ".title { font-size: 15px; }\n"
                     ".frame { fill: white; stroke: #333; }\n"
                     ".grid { stroke: #ddd; }\n"
                     ".mem { fill: none; stroke: #1f77b4; "
                     "stroke-width: 1.5; }\n"
                     ".child { fill: none; stroke: #ff7f0e; "
                     "stroke-dasharray: 4 2; }\n"
                     ".peak { fill: none; stroke: #d62728; "
                     "stroke-dasharray: 3 3; }\n"
                     ".bracket { fill: none; stroke-width: 1.5; }\n"
                     "</style>\n");
    pyprof_sink_puts(sink, "<rect width=\"100%\" height=\"100%\" "
                           "fill=\"white\"/>\n");
    pyprof_sink_printf(sink, "<text class=\"title\" x=\"%.1f\" y=\"28\" "
                             "text-anchor=\"middle\">",
                       (LEFT + WIDTH - RIGHT) / 2);
    const char *heading = title != NULL ? title : data->cmdline;
    pyprof_svg_escape(sink, heading != NULL ? heading : "memory usage");
    pyprof_sink_puts(sink, "</text>\n");
    write_axes(sink, &s);

    write_polyline(sink, &s, data->mem, data->nmem, NULL, 0, "mem");
    int max_child = -1;
    for (size_t i = 0; i < data->nchld; i++) {
        max_child = data->chld_index[i] > max_child ? data->chld_index[i]
                                                    : max_child;
    }
    for (int c = 0; c <= max_child && c < 64; c++) {
        write_polyline(sink, &s, data->chld, data->nchld, data->chld_index,
                       c, "child");
    }

    /* The peak: a dashed line across and a marker on the sample. */
    double px = x_of(&s, data->mem[peak].timestamp);
    double py = y_of(&s, data->mem[peak].mib);
    pyprof_sink_printf(sink,
                       "<line class=\"peak\" x1=\"%.1f\" y1=\"%.1f\" "
                       "x2=\"%.1f\" y2=\"%.1f\"/>\n"
                       "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
                       "fill=\"#d62728\"><title>peak</title></circle>\n"
                       "<text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\" "
                       "text-anchor=\"%s\">peak %.3f MiB at %.2f s</text>\n",
                       LEFT, py, WIDTH - RIGHT, py, px, py,
                       px, py - 8, px > (WIDTH - RIGHT) * 0.7 ? "end"
                                                              : "start",
                       data->mem[peak].mib,
                       data->mem[peak].timestamp - s.t0);

    /* Brackets per call, one colour per function name (legend order =
     * first appearance). */
    const char *names[NCOLORS];
    size_t nnames = 0;
    for (size_t i = 0; i < data->nfuncs; i++) {
        const pyprof_mprof_func_t *f = &data->funcs[i];
        size_t k = 0;
        while (k < nnames && strcmp(names[k], f->name) != 0) {
            k++;
        }
        if (k == nnames && nnames < NCOLORS) {
            names[nnames++] = f->name;
        }
        const char *color = palette[k % NCOLORS];
        double lo = fmin(f->mem_start, f->mem_end);
        double hi = fmax(f->mem_start, f->mem_end);
        pyprof_sink_puts(sink, "<g><title>");
        pyprof_svg_escape(sink, f->name);
        pyprof_sink_printf(sink, " (%.3f to %.3f MiB, %.3f s)</title>\n",
                           f->mem_start, f->mem_end, f->t_end - f->t_start);
        write_bracket(sink, &s, f->t_start, lo, hi, 1, color);
        write_bracket(sink, &s, f->t_end, lo, hi, -1, color);
        pyprof_sink_puts(sink, "</g>\n");
    }

    double ly = TOP + 10;
    pyprof_sink_printf(sink,
                       "<line class=\"mem\" x1=\"%.1f\" y1=\"%.1f\" "
                       "x2=\"%.1f\" y2=\"%.1f\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\">memory (MiB)</text>\n",
                       WIDTH - RIGHT + 15, ly, WIDTH - RIGHT + 35, ly,
                       WIDTH - RIGHT + 40, ly + 4);
    if (data->nchld > 0) {
        ly += 18;
        pyprof_sink_printf(sink,
                           "<line class=\"child\" x1=\"%.1f\" y1=\"%.1f\" "
                           "x2=\"%.1f\" y2=\"%.1f\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\">child processes"
                           "</text>\n",
                           WIDTH - RIGHT + 15, ly, WIDTH - RIGHT + 35, ly,
                           WIDTH - RIGHT + 40, ly + 4);
    }
    for (size_t k = 0; k < nnames; k++) {
        ly += 18;
        pyprof_sink_printf(sink,
                           "<path class=\"bracket\" stroke=\"%s\" "
                           "d=\"M%.1f,%.1f H%.1f V%.1f H%.1f\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\">",
                           palette[k], WIDTH - RIGHT + 21, ly - 5,
                           WIDTH - RIGHT + 15, ly + 5, WIDTH - RIGHT + 21,
                           WIDTH - RIGHT + 40, ly + 4);
        pyprof_svg_escape(sink, names[k]);
        pyprof_sink_puts(sink, "</text>\n");
    }
    pyprof_sink_puts(sink, "</svg>\n");
}
