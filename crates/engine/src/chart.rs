//! The equity-curve image of a backtest: a PNG drawn and encoded here, without an imaging
//! dependency (uncompressed deflate blocks; a chart of 960 × 400 pixels is about 1.1 MB).
//!
//! Prices become pixels through `f64`: this is drawing, not money.

use rust_decimal::prelude::ToPrimitive;

use crate::BacktestReport;

/// Image width in pixels.
const WIDTH: usize = 960;
/// Image height in pixels.
const HEIGHT: usize = 400;
/// Blank border around the plot, in pixels.
const MARGIN: usize = 20;

const WHITE: [u8; 3] = [255, 255, 255];
const GREY: [u8; 3] = [200, 200, 200];
const BLUE: [u8; 3] = [31, 119, 180];
const ORANGE: [u8; 3] = [255, 127, 14];

/// The report's hourly equity as a PNG line chart (blue), with the starting capital as a
/// grey line and the mode switches as orange ticks along the bottom.
#[must_use]
pub fn equity_chart_png(report: &BacktestReport) -> Vec<u8> {
    let mut canvas = Canvas::new();
    let points: Vec<(i64, f64)> = report
        .equity_curve
        .iter()
        .map(|p| (p.time.as_millis(), p.equity.value().to_f64().unwrap_or(0.0)))
        .collect();
    let capital = report.initial_capital.value().to_f64().unwrap_or(0.0);
    if let (Some(&(t0, _)), Some(&(t1, _))) = (points.first(), points.last()) {
        let low = points.iter().map(|p| p.1).fold(capital, f64::min);
        let high = points.iter().map(|p| p.1).fold(capital, f64::max);
        let scale = Scale {
            t0,
            t1: t1.max(t0 + 1),
            low,
            high: if high > low { high } else { low + 1.0 },
        };
        canvas.frame();
        let (_, y) = scale.pixel(t0, capital);
        canvas.line((MARGIN, y), (WIDTH - MARGIN - 1, y), GREY);
        for switch in &report.mode_switches {
            let (x, _) = scale.pixel(switch.time.as_millis(), low);
            canvas.line((x, HEIGHT - MARGIN - 6), (x, HEIGHT - MARGIN - 1), ORANGE);
        }
        let pixels: Vec<(usize, usize)> = points.iter().map(|&(t, v)| scale.pixel(t, v)).collect();
        for pair in pixels.windows(2) {
            canvas.line(pair[0], pair[1], BLUE);
        }
    }
    canvas.encode_png()
}

/// Data to pixel coordinates.
struct Scale {
    t0: i64,
    t1: i64,
    low: f64,
    high: f64,
}

impl Scale {
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "pixel coordinates, clamped to the image"
    )]
    fn pixel(&self, time: i64, value: f64) -> (usize, usize) {
        let plot_w = (WIDTH - 2 * MARGIN - 1) as f64;
        let plot_h = (HEIGHT - 2 * MARGIN - 1) as f64;
        let x = (time - self.t0) as f64 / (self.t1 - self.t0) as f64 * plot_w;
        let y = (self.high - value) / (self.high - self.low) * plot_h;
        (
            MARGIN + x.clamp(0.0, plot_w).round() as usize,
            MARGIN + y.clamp(0.0, plot_h).round() as usize,
        )
    }
}

/// An RGB raster.
struct Canvas {
    pixels: Vec<u8>,
}

impl Canvas {
    fn new() -> Self {
        Self {
            pixels: WHITE.repeat(WIDTH * HEIGHT),
        }
    }

    fn set(&mut self, x: usize, y: usize, color: [u8; 3]) {
        if x < WIDTH && y < HEIGHT {
            let at = (y * WIDTH + x) * 3;
            self.pixels[at..at + 3].copy_from_slice(&color);
        }
    }

    fn frame(&mut self) {
        let (left, right) = (MARGIN - 1, WIDTH - MARGIN);
        let (top, bottom) = (MARGIN - 1, HEIGHT - MARGIN);
        self.line((left, top), (right, top), GREY);
        self.line((left, bottom), (right, bottom), GREY);
        self.line((left, top), (left, bottom), GREY);
        self.line((right, top), (right, bottom), GREY);
    }

    /// Bresenham, two pixels thick vertically.
    #[expect(
        clippy::cast_possible_wrap,
        clippy::cast_sign_loss,
        reason = "coordinates are below the image size"
    )]
    fn line(&mut self, from: (usize, usize), to: (usize, usize), color: [u8; 3]) {
        let (mut x, mut y) = (from.0 as i64, from.1 as i64);
        let (x1, y1) = (to.0 as i64, to.1 as i64);
        let (dx, dy) = ((x1 - x).abs(), -(y1 - y).abs());
        let (sx, sy) = (if x < x1 { 1 } else { -1 }, if y < y1 { 1 } else { -1 });
        let mut error = dx + dy;
        loop {
            self.set(x as usize, y as usize, color);
            self.set(x as usize, (y + 1) as usize, color);
            if x == x1 && y == y1 {
                break;
            }
            let doubled = 2 * error;
            if doubled >= dy {
                error += dy;
                x += sx;
            }
            if doubled <= dx {
                error += dx;
                y += sy;
            }
        }
    }

    fn encode_png(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(HEIGHT * (WIDTH * 3 + 1));
        for row in self.pixels.chunks(WIDTH * 3) {
            raw.push(0); // filter: none
            raw.extend_from_slice(row);
        }
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut header = Vec::new();
        header.extend_from_slice(&u32_be(WIDTH));
        header.extend_from_slice(&u32_be(HEIGHT));
        header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
        chunk(&mut png, b"IHDR", &header);
        chunk(&mut png, b"IDAT", &zlib_stored(&raw));
        chunk(&mut png, b"IEND", &[]);
        png
    }
}

fn u32_be(value: usize) -> [u8; 4] {
    u32::try_from(value).unwrap_or(u32::MAX).to_be_bytes()
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&u32_be(data.len()));
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream of uncompressed deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1_u32, 0_u32);
    for &byte in bytes {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_their_reference_values() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn the_image_is_a_well_formed_png() {
        let canvas = Canvas::new();
        let png = canvas.encode_png();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[16..20], &u32_be(WIDTH));
        assert!(png.ends_with(&[0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]));
    }
}
