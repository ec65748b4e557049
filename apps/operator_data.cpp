#include "apps/operator_data.h"

#include "operators/dataset_io.h"

namespace physis::app {

// A `data:` section, or a list of them whose samples are combined.
ops::Dataset load_operator_data(const config::Section& root, const std::string& key) {
  auto section = root.child(key);
  if (!section.is_sequence()) return ops::load_dataset(section);
  std::vector<ops::Dataset> parts;
  for (const auto& item : section.items()) parts.push_back(ops::load_dataset(item));
  if (parts.empty()) root.fail_at(key, "the list of datasets is empty");
  return ops::concatenate(parts);
}

// Train and test sets: `split: {train: N, test: M}` over one dataset (first N, then the next M; default 80/20),
// or a separate `test_data:` section.
std::pair<ops::Dataset, ops::Dataset> operator_train_and_test(const config::Section& root) {
  auto data = load_operator_data(root, "data");
  if (root.has("test_data")) {
    if (root.has("split")) root.fail_at("split", "give either split or test_data, not both");
    return {std::move(data), load_operator_data(root, "test_data")};
  }
  int64_t train = (data.size() * 4) / 5, test = data.size() - train;
  if (auto split = root.optional_child("split")) {
    train = split->get<int64_t>("train", train);
    test = split->get<int64_t>("test", data.size() - train);
    if (train <= 0 || test < 0 || train + test > data.size())
      split->fail("split asks for " + std::to_string(train) + " training and " + std::to_string(test) +
                  " test samples, but the dataset has " + std::to_string(data.size()));
    split->finish();
  }
  auto [first, rest] = data.split(train);
  return {std::move(first), rest.split(test).first};
}

}  // namespace physis::app
