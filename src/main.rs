fn main() {
    print!("{}", charter::crds::yaml());
}
