//! Loopback addresses for local instances: 127.0.0.2, 127.0.0.3, … so that each local instance
//! binds the same ports as a separate host would.

use std::net::Ipv4Addr;

/// No loopback address is left.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("every loopback address from 127.0.0.2 to 127.0.0.254 is taken; delete an unused local instance first")]
pub struct AddressesExhausted;

/// The lowest address in 127.0.0.2..=127.0.0.254 that is not in `taken`.
pub fn next_local_address(taken: &[Ipv4Addr]) -> Result<Ipv4Addr, AddressesExhausted> {
    (2..=254u8).map(|n| Ipv4Addr::new(127, 0, 0, n)).find(|a| !taken.contains(a)).ok_or(AddressesExhausted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_lowest_free() {
        let a = |n| Ipv4Addr::new(127, 0, 0, n);
        assert_eq!(next_local_address(&[]), Ok(a(2)));
        assert_eq!(next_local_address(&[a(2), a(3)]), Ok(a(4)));
        assert_eq!(next_local_address(&[a(3)]), Ok(a(2)));
        assert_eq!(next_local_address(&[a(2), a(4)]), Ok(a(3)));
        let all: Vec<_> = (2..=254).map(a).collect();
        assert_eq!(next_local_address(&all), Err(AddressesExhausted));
    }
}
