//! placeholder
#[no_mangle]
pub extern "C" fn gg_version() -> u32 { 1 }
