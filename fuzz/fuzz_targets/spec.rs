//! Spec text in, never a panic out: whatever bytes arrive, loading either
//! refuses them with a report or yields a plan whose kit renders.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // load() refuses non-UTF-8 files before parsing; the text path is what is fuzzed.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((plan, _output)) = greenlight::load_text("fuzz.kdl", text.to_string()) {
        // A spec that loads must render: templates never decide validity.
        greenlight::kit(&plan, greenlight::render::TemplateSource::default())
            .expect("a valid plan renders");
    }
});
