//! The V2 recharge's request, serialized byte-for-byte as the wire protocol
//! (docs/protocol.md §1), and its status read's body.

use std::fmt;

use serde::Serialize;

use crate::error::ValidationError;
use crate::validate::{
    Amount, CustomerNumber, Geocode, IdempotencyKey, ProductId, ReferenceId, RegistrationId,
};

/// A validated MobileRecharge request (the registration id comes from the
/// client). Build it with [`MobileRecharge::new`] or [`MobileRecharge::from_parts`].
#[derive(Clone, PartialEq)]
pub struct MobileRecharge {
    product_id: ProductId,
    amount: Amount,
    customer_number: CustomerNumber,
    geocode: Geocode,
    geocode_wire: String,
    idempotency_key: Option<IdempotencyKey>,
}

impl MobileRecharge {
    /// Validate every field (docs/protocol.md §3): `customer_number` as people write it
    /// (`"98765 43210"`, `"+919876543210"`), `geocode` as `"lat,long"`.
    ///
    /// ```
    /// let req = aopay_core::MobileRecharge::new(518, 10, "9876543210", "23.6784,76.8764")?;
    /// assert_eq!(req.amount().get(), 10);
    /// assert!(aopay_core::MobileRecharge::new(518, 0, "9876543210", "23.6784,76.8764").is_err());
    /// # Ok::<(), aopay_core::ValidationError>(())
    /// ```
    pub fn new(
        product_id: i64,
        amount: i64,
        customer_number: &str,
        geocode: &str,
    ) -> Result<Self, ValidationError> {
        Ok(Self::from_parts(
            ProductId::new(product_id)?,
            Amount::new(amount)?,
            CustomerNumber::parse(customer_number)?,
            Geocode::parse(geocode)?,
        ))
    }

    /// From already validated parts.
    pub fn from_parts(
        product_id: ProductId,
        amount: Amount,
        customer_number: CustomerNumber,
        geocode: Geocode,
    ) -> Self {
        let geocode_wire = geocode.to_wire();
        Self {
            product_id,
            amount,
            customer_number,
            geocode,
            geocode_wire,
            idempotency_key: None,
        }
    }

    /// Tie this recharge to the caller's own id for it (an order id): with a
    /// journal on the client, the same key never pays twice. Not sent to the
    /// API (which has no such field).
    ///
    /// ```
    /// let req = aopay_core::MobileRecharge::new(518, 10, "9876543210", "23.6784,76.8764")?
    ///     .with_idempotency_key("order-123")?;
    /// assert_eq!(req.idempotency_key().map(|k| k.as_str()), Some("order-123"));
    /// # Ok::<(), aopay_core::ValidationError>(())
    /// ```
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Result<Self, ValidationError> {
        self.idempotency_key = Some(IdempotencyKey::new(key)?);
        Ok(self)
    }

    /// The idempotency key, if one was set.
    pub fn idempotency_key(&self) -> Option<&IdempotencyKey> {
        self.idempotency_key.as_ref()
    }

    /// The operator/product code.
    pub fn product_id(&self) -> ProductId {
        self.product_id
    }
    /// The amount in rupees.
    pub fn amount(&self) -> Amount {
        self.amount
    }
    /// The customer number (masked in `Debug`).
    pub fn customer_number(&self) -> CustomerNumber {
        self.customer_number
    }
    /// Where the request originated.
    pub fn geocode(&self) -> Geocode {
        self.geocode
    }

    /// The exact JSON body sent to `MobileRecharge`.
    ///
    /// ```
    /// use aopay_core::{MobileRecharge, RegistrationId};
    /// let req = MobileRecharge::new(518, 10, "9876543210", "23.6784,76.8764")?;
    /// let body = req.to_json(&RegistrationId::new("AOP-554")?);
    /// assert_eq!(
    ///     String::from_utf8(body).unwrap(),
    ///     r#"{"RegistrationID":"AOP-554","ProductID":518,"Amount":10,"Geocode":"23.6784,76.8764","CustomerNumber":9876543210}"#
    /// );
    /// # Ok::<(), aopay_core::ValidationError>(())
    /// ```
    pub fn to_json(&self, registration_id: &RegistrationId) -> Vec<u8> {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(rename = "RegistrationID")]
            registration_id: &'a str,
            #[serde(rename = "ProductID")]
            product_id: u32,
            #[serde(rename = "Amount")]
            amount: u32,
            #[serde(rename = "Geocode")]
            geocode: &'a str,
            #[serde(rename = "CustomerNumber")]
            customer_number: u64,
        }
        to_vec(&Wire {
            registration_id: registration_id.as_str(),
            product_id: self.product_id.get(),
            amount: self.amount.get(),
            geocode: &self.geocode_wire,
            customer_number: self.customer_number.get(),
        })
    }
}

/// The exact JSON body sent to `RechargeStatus` (the key is spelled
/// `ReferanceId`, as the API has it).
pub fn recharge_status_json(registration_id: &RegistrationId, reference: &ReferenceId) -> Vec<u8> {
    #[derive(Serialize)]
    struct Wire<'a> {
        #[serde(rename = "RegistrationID")]
        registration_id: &'a str,
        #[serde(rename = "ReferanceId")]
        reference_id: &'a str,
    }
    to_vec(&Wire {
        registration_id: registration_id.as_str(),
        reference_id: reference.as_str(),
    })
}

fn to_vec(value: &impl Serialize) -> Vec<u8> {
    // Strings, integers and derived structs cannot fail to serialize.
    serde_json::to_vec(value).unwrap_or_default()
}

impl fmt::Debug for MobileRecharge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MobileRecharge")
            .field("product_id", &self.product_id.get())
            .field("amount", &self.amount.get())
            .field("customer_number", &self.customer_number)
            .field("geocode", &self.geocode_wire)
            .field(
                "idempotency_key",
                &self.idempotency_key.as_ref().map(IdempotencyKey::as_str),
            )
            .finish()
    }
}

/// The fate of a transaction: the one outcome every write and status read
/// answers (docs/protocol.md §2, §10), a V2 recharge's too (which is never
/// `Refunded`). Before 0.2 it was an enum of its own, without `Refunded`.
pub type Status = crate::wire::answers::Outcome;
