//! Loopback addresses for local instances: 127.0.0.2, 127.0.0.3, … so that each local instance
//! binds the same ports as a separate host would. The first address is configurable so that
//! several servers on one machine (tests, demos) use separate ranges.

use std::net::Ipv4Addr;

/// No address is left in the range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("every local address from {first} to {last} is taken; delete an unused local instance first")]
pub struct AddressesExhausted {
    /// The first address of the range.
    pub first: Ipv4Addr,
    /// The last address of the range.
    pub last: Ipv4Addr,
}

/// The default first local address.
pub const DEFAULT_FIRST: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// The lowest address from `first` up to the `.254` of its /24 that is not in `taken`.
pub fn next_local_address(first: Ipv4Addr, taken: &[Ipv4Addr]) -> Result<Ipv4Addr, AddressesExhausted> {
    let [a, b, c, start] = first.octets();
    let last = Ipv4Addr::new(a, b, c, 254);
    (start..=254)
        .map(|n| Ipv4Addr::new(a, b, c, n))
        .find(|addr| !taken.contains(addr))
        .ok_or(AddressesExhausted { first, last })
}

/// Whether `addr` can be a first local address: loopback, and not the network, .1 or broadcast.
pub fn valid_first(addr: Ipv4Addr) -> bool {
    addr.is_loopback() && (2..=254).contains(&addr.octets()[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_lowest_free() {
        let a = |n| Ipv4Addr::new(127, 0, 0, n);
        assert_eq!(next_local_address(DEFAULT_FIRST, &[]), Ok(a(2)));
        assert_eq!(next_local_address(DEFAULT_FIRST, &[a(2), a(3)]), Ok(a(4)));
        assert_eq!(next_local_address(DEFAULT_FIRST, &[a(3)]), Ok(a(2)));
        assert_eq!(next_local_address(DEFAULT_FIRST, &[a(2), a(4)]), Ok(a(3)));
        assert_eq!(next_local_address(Ipv4Addr::new(127, 0, 9, 10), &[]), Ok(Ipv4Addr::new(127, 0, 9, 10)));
        let all: Vec<_> = (2..=254).map(a).collect();
        assert_eq!(next_local_address(DEFAULT_FIRST, &all), Err(AddressesExhausted { first: a(2), last: a(254) }));
    }

    #[test]
    fn first_addresses() {
        assert!(valid_first(Ipv4Addr::new(127, 0, 0, 2)));
        assert!(valid_first(Ipv4Addr::new(127, 3, 7, 100)));
        assert!(!valid_first(Ipv4Addr::new(127, 0, 0, 1)));
        assert!(!valid_first(Ipv4Addr::new(127, 0, 0, 255)));
        assert!(!valid_first(Ipv4Addr::new(10, 0, 0, 2)));
    }
}
