//! Fees and payments on a dossier (issue 21 §2). The fee is the one the province set for the
//! procedure when the dossier was filed (Law on Fees and Charges 2015 art. 21: provincial
//! People's Councils set the fees of the procedures their authorities handle; the catalog's
//! national fee otherwise); it is collected at receipt (Decree 61/2018/NĐ-CP art. 6) or
//! through an online payment reference (Decree 45/2020/NĐ-CP art. 17, payment on the
//! national public-service portal). A payment asked for later (`request_payment`, a tax or a
//! charge assessed while handling) is paid with `confirm_payment`. Every payment leaves a
//! receipt on the dossier, and Decision 766's online-payment indicator counts them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::aggregate::Dossier;
use crate::domain::account::Invalid;
use crate::domain::lifecycle::TransitionError;
use crate::domain::unit::UnitCode;

/// The largest fee or payment a dossier takes, in VND. Procedure fees are thousands to a few
/// million đồng (Circular 85/2019/TT-BTC's ceilings); a figure above this is a typing error,
/// not a fee.
pub const MAX_AMOUNT_VND: i64 = 100_000_000;

/// How a payment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentChannel {
    /// At the counter, in cash (the unit issues its own receipt number).
    Cash,
    /// By bank transfer to the unit's account (the transfer's reference).
    BankTransfer,
    /// Through the online payment gateway of the public-service portal (the transaction's
    /// reference).
    OnlineGateway,
}

impl PaymentChannel {
    pub const ALL: [PaymentChannel; 3] = [
        PaymentChannel::Cash,
        PaymentChannel::BankTransfer,
        PaymentChannel::OnlineGateway,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentChannel::Cash => "cash",
            PaymentChannel::BankTransfer => "bank_transfer",
            PaymentChannel::OnlineGateway => "online_gateway",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentChannel> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A payment as the caller gave it, checked: a channel, and for a transfer or the gateway
/// the reference that proves it (1–64 letters, digits, `.`, `_`, `/`, `-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub channel: PaymentChannel,
    pub reference: Option<String>,
}

impl Payment {
    /// `None` when neither field is given.
    pub fn parse(
        channel: Option<&str>,
        reference: Option<&str>,
    ) -> Result<Option<Payment>, Invalid> {
        let reference = reference.map(str::trim).filter(|r| !r.is_empty());
        let Some(channel) = channel.map(str::trim).filter(|c| !c.is_empty()) else {
            return match reference {
                Some(_) => Err(Invalid::new("payment_channel", "required")),
                None => Ok(None),
            };
        };
        let channel = PaymentChannel::parse(channel)
            .ok_or(Invalid::new("payment_channel", "invalid_channel"))?;
        if let Some(r) = reference {
            let ok = (1..=64).contains(&r.chars().count())
                && r.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'));
            if !ok {
                return Err(Invalid::new("payment_reference", "invalid_reference"));
            }
        } else if channel != PaymentChannel::Cash {
            return Err(Invalid::new("payment_reference", "required"));
        }
        Ok(Some(Payment {
            channel,
            reference: reference.map(str::to_string),
        }))
    }
}

/// Why a payment was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptPurpose {
    /// The procedure's fee, at filing or receipt.
    Fee,
    /// An amount asked for with `request_payment`.
    Requested,
}

/// A receipt (biên lai) kept on the dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    /// `{dossier code}-BL{n}`; the dossier's code is given when it is numbered, so a receipt
    /// taken at filing is numbered `BL1` and shown with the code.
    pub number: String,
    pub purpose: ReceiptPurpose,
    pub amount_vnd: i64,
    pub channel: PaymentChannel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The unit that took it.
    #[schema(value_type = String)]
    pub unit: UnitCode,
    pub at: DateTime<Utc>,
}

/// A fee amount checked: 0 (exempt) to [`MAX_AMOUNT_VND`].
pub fn check_amount(field: &'static str, amount: i64) -> Result<i64, Invalid> {
    if amount < 0 {
        Err(Invalid::new(field, "negative_amount"))
    } else if amount > MAX_AMOUNT_VND {
        Err(Invalid::new(field, "amount_too_large"))
    } else {
        Ok(amount)
    }
}

impl Dossier {
    /// The fee still to pay (`None`: no fee, or paid).
    pub fn fee_due(&self) -> Option<i64> {
        let fee = self.fee_vnd.filter(|f| *f > 0)?;
        let paid = self
            .receipts
            .iter()
            .any(|r| r.purpose == ReceiptPurpose::Fee);
        (!paid).then_some(fee)
    }

    /// Take a payment: a receipt on the dossier, returned for the event's data.
    pub(super) fn take_payment(
        &mut self,
        purpose: ReceiptPurpose,
        amount_vnd: i64,
        payment: &Payment,
        unit: &UnitCode,
        now: DateTime<Utc>,
    ) -> serde_json::Value {
        let receipt = Receipt {
            number: format!("BL{}", self.receipts.len() + 1),
            purpose,
            amount_vnd,
            channel: payment.channel,
            reference: payment.reference.clone(),
            unit: unit.clone(),
            at: now,
        };
        self.paid_at = Some(now);
        if payment.channel == PaymentChannel::OnlineGateway {
            self.paid_online = true;
        }
        let value = json!(receipt);
        self.receipts.push(receipt);
        value
    }

    /// The fee taken at filing or receipt: refused when there is none to pay.
    pub(super) fn take_fee(
        &mut self,
        payment: &Payment,
        unit: &UnitCode,
        now: DateTime<Utc>,
    ) -> Result<serde_json::Value, TransitionError> {
        let fee = self.fee_due().ok_or(TransitionError::InvalidField {
            field: "payment_channel",
            code: "no_fee_due",
        })?;
        Ok(self.take_payment(ReceiptPurpose::Fee, fee, payment, unit, now))
    }

    /// A receipt's number as shown: with the dossier's code once it has one.
    pub fn receipt_number(&self, r: &Receipt) -> String {
        match &self.code {
            Some(code) => format!("{}-{}", code.as_str(), r.number),
            None => r.number.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_needs_a_channel_and_a_reference_unless_in_cash() {
        assert_eq!(Payment::parse(None, None), Ok(None));
        assert_eq!(
            Payment::parse(Some("cash"), None).unwrap().unwrap().channel,
            PaymentChannel::Cash
        );
        assert_eq!(
            Payment::parse(Some("bank_transfer"), None)
                .unwrap_err()
                .field,
            "payment_reference"
        );
        assert_eq!(
            Payment::parse(Some("online_gateway"), Some("FT26338 123"))
                .unwrap_err()
                .code,
            "invalid_reference"
        );
        assert_eq!(
            Payment::parse(None, Some("X1")).unwrap_err().field,
            "payment_channel"
        );
        assert_eq!(
            Payment::parse(Some("cheque"), Some("X1")).unwrap_err().code,
            "invalid_channel"
        );
        let p = Payment::parse(Some("online_gateway"), Some("PAYGOV-2026-000123"))
            .unwrap()
            .unwrap();
        assert_eq!(p.reference.as_deref(), Some("PAYGOV-2026-000123"));
    }

    #[test]
    fn fees_are_zero_to_a_hundred_million() {
        assert_eq!(check_amount("amount_vnd", 0), Ok(0));
        assert_eq!(check_amount("amount_vnd", 8_000), Ok(8_000));
        assert_eq!(
            check_amount("amount_vnd", -1).unwrap_err().code,
            "negative_amount"
        );
        assert_eq!(
            check_amount("amount_vnd", MAX_AMOUNT_VND + 1)
                .unwrap_err()
                .code,
            "amount_too_large"
        );
    }
}
