//! Exchange symbol filters and the one place where prices and quantities are rounded.
//!
//! Rules (Binance spot, `../shared/spec/apis.md` §1.8):
//! - quantity is **truncated** toward zero to the lot step, so we never spend more than asked;
//! - a BUY price is rounded **down** and a SELL price **up** to the tick, so rounding never makes
//!   a grid level worse than the strategy asked for (and never shrinks the spacing below fees);
//! - the notional (`price × quantity`) is checked **after** rounding;
//! - a filter field of zero disables that rule, as on Binance. (The old system divided by a zero
//!   tick size; here zero simply means "no grid".)

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    error::CoreError,
    money::{Notional, Price, Quantity},
    order::Side,
    symbol::Symbol,
};

/// The trading rules of one symbol, as reported by the exchange.
///
/// All fields are in the symbol's units: prices in quote per base, quantities in base, notional
/// in quote. Zero in `tick_size`, `step_size`, `min_*` or `max_*` disables that rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolFilters {
    /// The symbol these rules belong to.
    pub symbol: Symbol,
    /// Price increment (`PRICE_FILTER.tickSize`).
    pub tick_size: Decimal,
    /// Lowest price allowed (`PRICE_FILTER.minPrice`).
    pub min_price: Decimal,
    /// Highest price allowed (`PRICE_FILTER.maxPrice`).
    pub max_price: Decimal,
    /// Quantity increment (`LOT_SIZE.stepSize`).
    pub step_size: Decimal,
    /// Smallest quantity (`LOT_SIZE.minQty`).
    pub min_qty: Decimal,
    /// Largest quantity (`LOT_SIZE.maxQty`).
    pub max_qty: Decimal,
    /// Smallest order value in quote (`NOTIONAL.minNotional` or legacy `MIN_NOTIONAL`).
    pub min_notional: Decimal,
    /// Largest order value in quote (`NOTIONAL.maxNotional`).
    pub max_notional: Decimal,
    /// Most open orders on this symbol (`MAX_NUM_ORDERS`); 0 = no limit known.
    pub max_num_orders: u32,
}

/// Why an order cannot be sent as it is. Each variant names the Binance filter it mirrors, so the
/// fake exchange can answer with the same `-1013 Filter failure: …` text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterViolation {
    /// A price or quantity that is zero or negative after rounding.
    #[error("{what} {value} is not positive after rounding")]
    NotPositive {
        /// `"price"` or `"quantity"`.
        what: &'static str,
        /// The value after rounding.
        value: Decimal,
    },
    /// The price is not a multiple of the tick size.
    #[error("price {price} is not a multiple of the tick size {tick_size}")]
    PriceOffTick {
        /// The price given.
        price: Decimal,
        /// The tick size.
        tick_size: Decimal,
    },
    /// The price is below `minPrice`.
    #[error("price {price} is below the minimum price {min}")]
    PriceBelowMin {
        /// The price given.
        price: Decimal,
        /// The minimum.
        min: Decimal,
    },
    /// The price is above `maxPrice`.
    #[error("price {price} is above the maximum price {max}")]
    PriceAboveMax {
        /// The price given.
        price: Decimal,
        /// The maximum.
        max: Decimal,
    },
    /// The quantity is not a multiple of the step size.
    #[error("quantity {quantity} is not a multiple of the step size {step_size}")]
    QuantityOffStep {
        /// The quantity given.
        quantity: Decimal,
        /// The step size.
        step_size: Decimal,
    },
    /// The quantity is below `minQty`.
    #[error("quantity {quantity} is below the minimum quantity {min}")]
    QuantityBelowMin {
        /// The quantity given.
        quantity: Decimal,
        /// The minimum.
        min: Decimal,
    },
    /// The quantity is above `maxQty`.
    #[error("quantity {quantity} is above the maximum quantity {max}")]
    QuantityAboveMax {
        /// The quantity given.
        quantity: Decimal,
        /// The maximum.
        max: Decimal,
    },
    /// The order value is below the minimum notional.
    #[error("order value {notional} is below the minimum notional {min}")]
    NotionalBelowMin {
        /// `price × quantity` after rounding.
        notional: Decimal,
        /// The minimum.
        min: Decimal,
    },
    /// The order value is above the maximum notional.
    #[error("order value {notional} is above the maximum notional {max}")]
    NotionalAboveMax {
        /// `price × quantity` after rounding.
        notional: Decimal,
        /// The maximum.
        max: Decimal,
    },
    /// Opening one more order would exceed `MAX_NUM_ORDERS`.
    #[error("{open} open orders already, the symbol allows at most {max}")]
    TooManyOrders {
        /// Orders open now.
        open: u32,
        /// The limit.
        max: u32,
    },
    /// A number too large to divide by the step or tick.
    #[error("{what} {value} is out of range")]
    OutOfRange {
        /// `"price"` or `"quantity"`.
        what: &'static str,
        /// The value given.
        value: Decimal,
    },
}

impl FilterViolation {
    /// The Binance filter type this violation corresponds to (`PRICE_FILTER`, `LOT_SIZE`,
    /// `NOTIONAL`, `MAX_NUM_ORDERS`), as it appears in `-1013 Filter failure: <name>`.
    #[must_use]
    pub fn binance_filter(&self) -> &'static str {
        match self {
            Self::PriceOffTick { .. } | Self::PriceBelowMin { .. } | Self::PriceAboveMax { .. } => {
                "PRICE_FILTER"
            }
            Self::NotPositive { what: "price", .. } | Self::OutOfRange { what: "price", .. } => {
                "PRICE_FILTER"
            }
            Self::NotPositive { .. }
            | Self::OutOfRange { .. }
            | Self::QuantityOffStep { .. }
            | Self::QuantityBelowMin { .. }
            | Self::QuantityAboveMax { .. } => "LOT_SIZE",
            Self::NotionalBelowMin { .. } | Self::NotionalAboveMax { .. } => "NOTIONAL",
            Self::TooManyOrders { .. } => "MAX_NUM_ORDERS",
        }
    }
}

/// A price and quantity that passed every filter of their symbol. Only [`SymbolFilters`] builds
/// one, so holding a `RoundedOrder` is proof the exchange will not refuse it on a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundedOrder {
    side: Side,
    price: Price,
    quantity: Quantity,
}

impl RoundedOrder {
    /// Buy or sell.
    #[must_use]
    pub const fn side(&self) -> Side {
        self.side
    }

    /// The rounded limit (or reference) price.
    #[must_use]
    pub const fn price(&self) -> Price {
        self.price
    }

    /// The truncated quantity.
    #[must_use]
    pub const fn quantity(&self) -> Quantity {
        self.quantity
    }

    /// `price × quantity` in the quote asset.
    #[must_use]
    pub fn notional(&self) -> Notional {
        self.price * self.quantity
    }
}

impl SymbolFilters {
    /// Rules with the given tick and step and nothing else enforced; a starting point for tests
    /// and for symbols whose full rules are not known yet.
    #[must_use]
    pub fn with_steps(symbol: Symbol, tick_size: Decimal, step_size: Decimal) -> Self {
        Self {
            symbol,
            tick_size,
            min_price: Decimal::ZERO,
            max_price: Decimal::ZERO,
            step_size,
            min_qty: Decimal::ZERO,
            max_qty: Decimal::ZERO,
            min_notional: Decimal::ZERO,
            max_notional: Decimal::ZERO,
            max_num_orders: 0,
        }
    }

    /// Rules for replaying candles of a symbol whose real rules are not at hand, from its
    /// first price: a tick of a millionth of the price's order of magnitude (down to 10⁻¹⁸, so
    /// a PEPE at 0.00001 gets a 10⁻¹¹ tick), a quantity step worth about a hundredth of a unit
    /// of the quote (at most 1), and Binance's usual 5-quote minimum notional. The fake
    /// Binance lists replayed symbols with these rules; `hybrid_engine::replay_filters` is the
    /// same rule (and should call this one).
    #[must_use]
    pub fn for_replay(symbol: Symbol, first_price: Decimal) -> Self {
        let power_of_ten = |exponent: i32| {
            if exponent >= 0 {
                Decimal::from(10_i64.pow(exponent.unsigned_abs().min(18)))
            } else {
                Decimal::new(1, exponent.unsigned_abs().min(28))
            }
        };
        let mut magnitude: i32 = 0;
        let mut scaled = first_price;
        while scaled >= Decimal::TEN {
            scaled /= Decimal::TEN;
            magnitude += 1;
        }
        while scaled < Decimal::ONE && scaled > Decimal::ZERO && magnitude > -12 {
            scaled *= Decimal::TEN;
            magnitude -= 1;
        }
        let tick = power_of_ten(magnitude - 6);
        let step = power_of_ten(-(magnitude + 2)).min(Decimal::ONE);
        let mut filters = Self::with_steps(symbol, tick, step);
        filters.min_notional = Decimal::from(5);
        filters
    }

    /// Checks that the rules are self-consistent: nothing negative, every minimum ≤ its maximum.
    ///
    /// # Errors
    /// [`CoreError::InvalidValue`] naming the first inconsistent field.
    pub fn validate(&self) -> Result<(), CoreError> {
        let fields = [
            ("tick_size", self.tick_size),
            ("min_price", self.min_price),
            ("max_price", self.max_price),
            ("step_size", self.step_size),
            ("min_qty", self.min_qty),
            ("max_qty", self.max_qty),
            ("min_notional", self.min_notional),
            ("max_notional", self.max_notional),
        ];
        if let Some((what, value)) = fields
            .iter()
            .find(|(_, v)| v.is_sign_negative() && !v.is_zero())
        {
            return Err(CoreError::InvalidValue {
                what,
                value: value.to_string(),
                reason: "must not be negative",
            });
        }
        let pairs = [
            ("min_price", self.min_price, self.max_price),
            ("min_qty", self.min_qty, self.max_qty),
            ("min_notional", self.min_notional, self.max_notional),
        ];
        for (what, min, max) in pairs {
            if !max.is_zero() && min > max {
                return Err(CoreError::InvalidValue {
                    what,
                    value: min.to_string(),
                    reason: "must not exceed its maximum",
                });
            }
        }
        Ok(())
    }

    /// Truncates a quantity toward zero to the lot step (never rounds up).
    ///
    /// # Errors
    /// [`FilterViolation::NotPositive`] for a negative input, [`FilterViolation::OutOfRange`]
    /// when the quantity is too large to divide by the step.
    pub fn round_quantity(&self, quantity: Decimal) -> Result<Quantity, FilterViolation> {
        if quantity.is_sign_negative() && !quantity.is_zero() {
            return Err(FilterViolation::NotPositive {
                what: "quantity",
                value: quantity,
            });
        }
        let truncated = floor_to(quantity, self.step_size).ok_or(FilterViolation::OutOfRange {
            what: "quantity",
            value: quantity,
        })?;
        Quantity::new(truncated).map_err(|_| FilterViolation::NotPositive {
            what: "quantity",
            value: truncated,
        })
    }

    /// Rounds a limit price to the tick: down for a BUY, up for a SELL.
    ///
    /// # Errors
    /// [`FilterViolation::NotPositive`] when the rounded price is not above zero,
    /// [`FilterViolation::OutOfRange`] when it is too large to divide by the tick.
    pub fn round_price(&self, side: Side, price: Decimal) -> Result<Price, FilterViolation> {
        let rounded = match side {
            Side::Buy => floor_to(price, self.tick_size),
            Side::Sell => ceil_to(price, self.tick_size),
        }
        .ok_or(FilterViolation::OutOfRange {
            what: "price",
            value: price,
        })?;
        Price::new(rounded).map_err(|_| FilterViolation::NotPositive {
            what: "price",
            value: rounded,
        })
    }

    /// Rounds a limit order (price by side, quantity truncated) and checks every filter.
    ///
    /// # Errors
    /// The first [`FilterViolation`] the rounded order breaks.
    pub fn prepare_limit(
        &self,
        side: Side,
        price: Decimal,
        quantity: Decimal,
    ) -> Result<RoundedOrder, FilterViolation> {
        let price = self.round_price(side, price)?;
        let quantity = self.round_quantity(quantity)?;
        self.check(side, price, quantity)
    }

    /// The largest order at (rounded) `price` whose value does not exceed `budget`.
    ///
    /// The price is rounded by side first and the quantity derived from the *rounded* price, so
    /// `notional ≤ budget` always holds.
    ///
    /// # Errors
    /// The first [`FilterViolation`] the resulting order breaks (typically `NotionalBelowMin`
    /// or `QuantityBelowMin` when the budget is too small).
    pub fn order_for_budget(
        &self,
        side: Side,
        price: Decimal,
        budget: Notional,
    ) -> Result<RoundedOrder, FilterViolation> {
        let price = self.round_price(side, price)?;
        let quantity = self.round_quantity(budget.quantity_at(price).max(Decimal::ZERO))?;
        self.check(side, price, quantity)
    }

    /// Checks an already-rounded price and quantity against every filter.
    ///
    /// # Errors
    /// The first [`FilterViolation`] found, in Binance's order: price, lot size, notional.
    pub fn check(
        &self,
        side: Side,
        price: Price,
        quantity: Quantity,
    ) -> Result<RoundedOrder, FilterViolation> {
        self.check_price(price.value())?;
        self.check_quantity(quantity.value())?;
        self.check_notional((price * quantity).value())?;
        Ok(RoundedOrder {
            side,
            price,
            quantity,
        })
    }

    /// Checks a market order's quantity, valuing it at `reference_price` for the notional rule.
    ///
    /// # Errors
    /// The first [`FilterViolation`] found on quantity or notional.
    pub fn check_market(
        &self,
        side: Side,
        reference_price: Price,
        quantity: Quantity,
    ) -> Result<RoundedOrder, FilterViolation> {
        self.check_quantity(quantity.value())?;
        self.check_notional((reference_price * quantity).value())?;
        Ok(RoundedOrder {
            side,
            price: reference_price,
            quantity,
        })
    }

    /// Checks that one more order may be opened when `open` are open already.
    ///
    /// # Errors
    /// [`FilterViolation::TooManyOrders`] at the limit.
    pub fn check_open_orders(&self, open: u32) -> Result<(), FilterViolation> {
        if self.max_num_orders != 0 && open >= self.max_num_orders {
            return Err(FilterViolation::TooManyOrders {
                open,
                max: self.max_num_orders,
            });
        }
        Ok(())
    }

    fn check_price(&self, price: Decimal) -> Result<(), FilterViolation> {
        if !self.min_price.is_zero() && price < self.min_price {
            return Err(FilterViolation::PriceBelowMin {
                price,
                min: self.min_price,
            });
        }
        if !self.max_price.is_zero() && price > self.max_price {
            return Err(FilterViolation::PriceAboveMax {
                price,
                max: self.max_price,
            });
        }
        if !is_multiple(price, self.tick_size) {
            return Err(FilterViolation::PriceOffTick {
                price,
                tick_size: self.tick_size,
            });
        }
        Ok(())
    }

    fn check_quantity(&self, quantity: Decimal) -> Result<(), FilterViolation> {
        if quantity.is_zero() {
            return Err(FilterViolation::NotPositive {
                what: "quantity",
                value: quantity,
            });
        }
        if !self.min_qty.is_zero() && quantity < self.min_qty {
            return Err(FilterViolation::QuantityBelowMin {
                quantity,
                min: self.min_qty,
            });
        }
        if !self.max_qty.is_zero() && quantity > self.max_qty {
            return Err(FilterViolation::QuantityAboveMax {
                quantity,
                max: self.max_qty,
            });
        }
        if !is_multiple(quantity, self.step_size) {
            return Err(FilterViolation::QuantityOffStep {
                quantity,
                step_size: self.step_size,
            });
        }
        Ok(())
    }

    fn check_notional(&self, notional: Decimal) -> Result<(), FilterViolation> {
        if !self.min_notional.is_zero() && notional < self.min_notional {
            return Err(FilterViolation::NotionalBelowMin {
                notional,
                min: self.min_notional,
            });
        }
        if !self.max_notional.is_zero() && notional > self.max_notional {
            return Err(FilterViolation::NotionalAboveMax {
                notional,
                max: self.max_notional,
            });
        }
        Ok(())
    }
}

impl fmt::Display for SymbolFilters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tick {} step {} qty [{}, {}] notional [{}, {}]",
            self.symbol,
            self.tick_size,
            self.step_size,
            self.min_qty,
            self.max_qty,
            self.min_notional,
            self.max_notional
        )
    }
}

/// The largest multiple of `step` not above `value`; `value` itself when `step` is zero.
fn floor_to(value: Decimal, step: Decimal) -> Option<Decimal> {
    if step.is_zero() {
        return Some(value.normalize());
    }
    Some((value.checked_div(step)?.floor().checked_mul(step)?).normalize())
}

/// The smallest multiple of `step` not below `value`; `value` itself when `step` is zero.
fn ceil_to(value: Decimal, step: Decimal) -> Option<Decimal> {
    if step.is_zero() {
        return Some(value.normalize());
    }
    Some((value.checked_div(step)?.ceil().checked_mul(step)?).normalize())
}

fn is_multiple(value: Decimal, step: Decimal) -> bool {
    step.is_zero() || value.checked_rem(step).is_some_and(|rest| rest.is_zero())
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn btc() -> SymbolFilters {
        SymbolFilters {
            symbol: Symbol::new("BTCUSDT").unwrap(),
            tick_size: dec!(0.01),
            min_price: dec!(0.01),
            max_price: dec!(1000000),
            step_size: dec!(0.00001),
            min_qty: dec!(0.00001),
            max_qty: dec!(9000),
            min_notional: dec!(5),
            max_notional: dec!(9000000),
            max_num_orders: 200,
        }
    }

    #[test]
    fn buy_rounds_down_sell_rounds_up() {
        let f = btc();
        assert_eq!(
            f.round_price(Side::Buy, dec!(42000.129)).unwrap().value(),
            dec!(42000.12)
        );
        assert_eq!(
            f.round_price(Side::Sell, dec!(42000.121)).unwrap().value(),
            dec!(42000.13)
        );
        assert_eq!(
            f.round_price(Side::Sell, dec!(42000.12)).unwrap().value(),
            dec!(42000.12)
        );
    }

    #[test]
    fn quantity_is_truncated() {
        let f = btc();
        assert_eq!(
            f.round_quantity(dec!(0.123456789)).unwrap().value(),
            dec!(0.12345)
        );
        assert_eq!(f.round_quantity(dec!(0.000009)).unwrap(), Quantity::ZERO);
    }

    #[test]
    fn notional_is_checked_after_rounding() {
        let f = btc();
        // 0.000119 truncates to 0.00011; at 42000 that is 4.62 < 5.
        let err = f
            .prepare_limit(Side::Buy, dec!(42000), dec!(0.000119))
            .unwrap_err();
        assert_eq!(
            err,
            FilterViolation::NotionalBelowMin {
                notional: dec!(4.62),
                min: dec!(5)
            }
        );
        assert_eq!(err.binance_filter(), "NOTIONAL");
    }

    #[test]
    fn zero_tick_disables_the_rule_instead_of_dividing_by_zero() {
        let f =
            SymbolFilters::with_steps(Symbol::new("XUSDT").unwrap(), Decimal::ZERO, Decimal::ZERO);
        let order = f
            .prepare_limit(Side::Buy, dec!(1.23456789), dec!(3.3333))
            .unwrap();
        assert_eq!(order.price().value(), dec!(1.23456789));
        assert_eq!(order.quantity().value(), dec!(3.3333));
    }

    #[test]
    fn budget_order_never_exceeds_budget() {
        let f = btc();
        let order = f
            .order_for_budget(Side::Buy, dec!(42000.129), Notional::new(dec!(100)))
            .unwrap();
        assert_eq!(order.price().value(), dec!(42000.12));
        assert_eq!(order.quantity().value(), dec!(0.00238));
        assert!(order.notional().value() <= dec!(100));
    }

    #[test]
    fn each_filter_reports_its_binance_name() {
        let f = btc();
        let cases = [
            (dec!(0.001), dec!(1), "PRICE_FILTER"),
            (dec!(2000000), dec!(0.001), "PRICE_FILTER"),
            (dec!(100), dec!(10000), "LOT_SIZE"),
            (dec!(100), dec!(0.000001), "LOT_SIZE"),
        ];
        for (price, qty, filter) in cases {
            let err = f.prepare_limit(Side::Buy, price, qty).unwrap_err();
            assert_eq!(err.binance_filter(), filter, "{price} x {qty}: {err}");
        }
        let off_tick = f.check(
            Side::Buy,
            Price::new(dec!(100.005)).unwrap(),
            Quantity::new(dec!(1)).unwrap(),
        );
        assert!(matches!(
            off_tick,
            Err(FilterViolation::PriceOffTick { .. })
        ));
    }

    #[test]
    fn open_order_limit() {
        let f = btc();
        assert!(f.check_open_orders(199).is_ok());
        assert_eq!(
            f.check_open_orders(200),
            Err(FilterViolation::TooManyOrders {
                open: 200,
                max: 200
            })
        );
    }

    #[test]
    fn validate_refuses_inconsistent_rules() {
        let mut f = btc();
        assert!(f.validate().is_ok());
        f.min_qty = dec!(10000);
        assert!(f.validate().is_err());
        let mut g = btc();
        g.tick_size = dec!(-0.01);
        assert!(g.validate().is_err());
    }
}

#[cfg(test)]
mod property_tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::*;

    fn decimal(max_units: i64, scale: u32) -> impl Strategy<Value = Decimal> {
        (0..max_units).prop_map(move |units| Decimal::new(units, scale))
    }

    fn step() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            Just(Decimal::new(1, 8)),
            Just(Decimal::new(1, 5)),
            Just(Decimal::new(1, 2)),
            Just(Decimal::new(5, 1)),
            Just(Decimal::ONE),
            Just(Decimal::new(25, 3)),
        ]
    }

    fn filters(tick: Decimal, step: Decimal) -> SymbolFilters {
        SymbolFilters::with_steps(Symbol::new("BTCUSDT").unwrap(), tick, step)
    }

    proptest! {
        #[test]
        fn prop_rounded_quantity_is_on_step_and_never_above_input(qty in decimal(10_000_000_000, 8), step in step()) {
            let rounded = filters(Decimal::ZERO, step).round_quantity(qty).unwrap().value();
            prop_assert!(rounded <= qty);
            prop_assert!(qty - rounded < step);
            prop_assert!((rounded % step).is_zero());
        }

        #[test]
        fn prop_buy_price_down_sell_price_up_within_one_tick(price in decimal(10_000_000_000, 6), tick in step()) {
            prop_assume!(price >= tick);
            let f = filters(tick, Decimal::ZERO);
            let buy = f.round_price(Side::Buy, price).unwrap().value();
            let sell = f.round_price(Side::Sell, price).unwrap().value();
            prop_assert!(buy <= price && price - buy < tick);
            prop_assert!(sell >= price && sell - price < tick);
            prop_assert!((buy % tick).is_zero() && (sell % tick).is_zero());
        }

        #[test]
        fn prop_budget_order_never_exceeds_budget(price in decimal(100_000_000, 4), budget in decimal(100_000_000, 2), tick in step(), step in step()) {
            prop_assume!(price >= tick);
            let f = filters(tick, step);
            for side in [Side::Buy, Side::Sell] {
                if let Ok(order) = f.order_for_budget(side, price, Notional::new(budget)) {
                    prop_assert!(order.notional().value() <= budget);
                    prop_assert!((order.quantity().value() % step).is_zero());
                    prop_assert!((order.price().value() % tick).is_zero());
                }
            }
        }

        #[test]
        fn prop_prepared_orders_pass_their_own_check(price in decimal(100_000_000, 4), qty in decimal(100_000_000, 6), tick in step(), step in step()) {
            let mut f = filters(tick, step);
            f.min_notional = Decimal::new(5, 0);
            if let Ok(order) = f.prepare_limit(Side::Sell, price, qty) {
                prop_assert!(order.notional().value() >= f.min_notional);
                prop_assert_eq!(f.check(Side::Sell, order.price(), order.quantity()), Ok(order));
            }
        }
    }
}
