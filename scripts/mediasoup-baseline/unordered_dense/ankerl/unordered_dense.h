/*
 * Minimal stand-in for ankerl::unordered_dense 4.8.1 (map, set, hash), for
 * the benchmark baseline build of mediasoup 3.27.1's worker only.
 *
 * The real header-only library (MIT, github.com/martinus/unordered_dense) is
 * not packaged in Debian 12 and cannot be downloaded here, so this header
 * gives the subset of its API that mediasoup's worker uses, with the same
 * observable behaviour where that matters:
 *   - values live in one contiguous std::vector<std::pair<Key, T>> (value_type
 *     is std::pair<Key, T>, not pair<const Key, T>); iteration is in insertion
 *     order, and erase() moves the last element into the hole, as unordered_dense
 *     does, so iteration orders (for instance in dump() results) are the same;
 *   - hash<T> for integers, enums and pointers is unordered_dense's wyhash
 *     mix (128-bit multiply by 0x9E3779B97F4A7C15, xor of the halves); strings
 *     use std::hash (unordered_dense uses wyhash over the bytes: values differ,
 *     nothing in the worker depends on them);
 * but the key -> index lookup is a std::unordered_map (node based), not
 * unordered_dense's open-addressing bucket array, so lookups and inserts are
 * slower than the real library's. Benchmarks of this build are therefore a
 * slightly pessimistic baseline for mediasoup's hash-map-heavy paths.
 *
 * Ours, not unordered_dense's code.
 */
#ifndef MS_BASELINE_ANKERL_UNORDERED_DENSE_SHIM_H
#define MS_BASELINE_ANKERL_UNORDERED_DENSE_SHIM_H

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#define ANKERL_UNORDERED_DENSE_VERSION_MAJOR 4
#define ANKERL_UNORDERED_DENSE_VERSION_MINOR 8
#define ANKERL_UNORDERED_DENSE_VERSION_PATCH 1
#define MS_BASELINE_UNORDERED_DENSE_SHIM 1

namespace ankerl
{
	namespace unordered_dense
	{
		namespace detail
		{
			namespace wyhash
			{
				inline uint64_t mix(uint64_t a, uint64_t b) noexcept
				{
					const __uint128_t r = static_cast<__uint128_t>(a) * b;

					return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64U);
				}

				inline uint64_t hash(uint64_t x) noexcept
				{
					return mix(x, UINT64_C(0x9E3779B97F4A7C15));
				}
			} // namespace wyhash
		}   // namespace detail

		template<typename T, typename Enable = void>
		struct hash
		{
			auto operator()(const T& obj) const noexcept(noexcept(std::declval<std::hash<T>>().operator()(
			  std::declval<const T&>()))) -> uint64_t
			{
				return std::hash<T>{}(obj);
			}
		};

		template<typename T>
		struct hash<T, typename std::enable_if<std::is_integral<T>::value>::type>
		{
			using is_avalanching = void;

			auto operator()(const T& obj) const noexcept -> uint64_t
			{
				return detail::wyhash::hash(static_cast<uint64_t>(obj));
			}
		};

		template<typename T>
		struct hash<T, typename std::enable_if<std::is_enum<T>::value>::type>
		{
			using is_avalanching = void;

			auto operator()(const T& e) const noexcept -> uint64_t
			{
				using Underlying = typename std::underlying_type<T>::type;

				return detail::wyhash::hash(static_cast<uint64_t>(static_cast<Underlying>(e)));
			}
		};

		template<typename T>
		struct hash<T*>
		{
			using is_avalanching = void;

			auto operator()(T* ptr) const noexcept -> uint64_t
			{
				return detail::wyhash::hash(reinterpret_cast<uintptr_t>(ptr));
			}
		};

		template<typename CharT>
		struct hash<std::basic_string<CharT>>
		{
			using is_avalanching = void;

			auto operator()(const std::basic_string<CharT>& str) const noexcept -> uint64_t
			{
				return std::hash<std::basic_string_view<CharT>>{}(str);
			}
		};

		template<typename CharT>
		struct hash<std::basic_string_view<CharT>>
		{
			using is_avalanching = void;

			auto operator()(const std::basic_string_view<CharT>& sv) const noexcept -> uint64_t
			{
				return std::hash<std::basic_string_view<CharT>>{}(sv);
			}
		};

		namespace detail
		{
			/* Adapts the user's hash (any return type) to what std::unordered_map wants. */
			template<typename Key, typename Hash>
			struct IndexHash
			{
				Hash h;

				size_t operator()(const Key& key) const
				{
					return static_cast<size_t>(h(key));
				}
			};

			/* IsMap: value_type is std::pair<Key, T>; otherwise it is Key. */
			template<typename Key, typename T, typename Hash, typename KeyEqual, bool IsMap>
			class table
			{
			public:
				using key_type        = Key;
				using value_type      = typename std::conditional<IsMap, std::pair<Key, T>, Key>::type;
				using value_container_type = std::vector<value_type>;
				using size_type       = size_t;
				using difference_type = std::ptrdiff_t;
				using hasher          = Hash;
				using key_equal       = KeyEqual;
				using reference       = value_type&;
				using const_reference = const value_type&;
				using iterator        = typename value_container_type::iterator;
				using const_iterator  = typename value_container_type::const_iterator;

			private:
				value_container_type m_values;
				std::unordered_map<Key, size_t, IndexHash<Key, Hash>, KeyEqual> index;

			protected:
				static const Key& KeyOf(const value_type& v)
				{
					if constexpr (IsMap)
					{
						return v.first;
					}
					else
					{
						return v;
					}
				}

				/* Appends v (a constructed value) unless its key is present. */
				std::pair<iterator, bool> PushUnique(value_type&& v)
				{
					auto found = this->index.find(KeyOf(v));

					if (found != this->index.end())
					{
						return { this->m_values.begin() + static_cast<difference_type>(found->second), false };
					}

					this->m_values.push_back(std::move(v));

					try
					{
						this->index.emplace(KeyOf(this->m_values.back()), this->m_values.size() - 1);
					}
					catch (...)
					{
						this->m_values.pop_back();
						throw;
					}

					return { this->m_values.end() - 1, true };
				}

				size_t IndexOf(const Key& key) const
				{
					auto found = this->index.find(key);

					return found == this->index.end() ? this->m_values.size() : found->second;
				}

			public:
				table() = default;

				table(std::initializer_list<value_type> init)
				{
					insert(init);
				}

				template<typename InputIt>
				table(InputIt first, InputIt last)
				{
					insert(first, last);
				}

				table(const table&)            = default;
				table(table&&) noexcept        = default;
				table& operator=(const table&) = default;
				table& operator=(table&&) noexcept = default;

				table& operator=(std::initializer_list<value_type> init)
				{
					clear();
					insert(init);

					return *this;
				}

				iterator begin() noexcept
				{
					return this->m_values.begin();
				}
				const_iterator begin() const noexcept
				{
					return this->m_values.begin();
				}
				const_iterator cbegin() const noexcept
				{
					return this->m_values.cbegin();
				}
				iterator end() noexcept
				{
					return this->m_values.end();
				}
				const_iterator end() const noexcept
				{
					return this->m_values.end();
				}
				const_iterator cend() const noexcept
				{
					return this->m_values.cend();
				}

				bool empty() const noexcept
				{
					return this->m_values.empty();
				}
				size_t size() const noexcept
				{
					return this->m_values.size();
				}
				size_t max_size() const noexcept
				{
					return this->m_values.max_size();
				}

				void clear()
				{
					this->m_values.clear();
					this->index.clear();
				}

				void reserve(size_t n)
				{
					this->m_values.reserve(n);
					this->index.reserve(n);
				}

				const value_container_type& values() const noexcept
				{
					return this->m_values;
				}

				value_container_type extract()
				{
					value_container_type out = std::move(this->m_values);

					this->m_values.clear();
					this->index.clear();

					return out;
				}

				std::pair<iterator, bool> insert(const value_type& v)
				{
					return PushUnique(value_type(v));
				}

				std::pair<iterator, bool> insert(value_type&& v)
				{
					return PushUnique(std::move(v));
				}

				iterator insert(const_iterator /*hint*/, const value_type& v)
				{
					return insert(v).first;
				}

				iterator insert(const_iterator /*hint*/, value_type&& v)
				{
					return insert(std::move(v)).first;
				}

				template<typename InputIt>
				void insert(InputIt first, InputIt last)
				{
					for (; first != last; ++first)
					{
						insert(value_type(*first));
					}
				}

				void insert(std::initializer_list<value_type> init)
				{
					insert(init.begin(), init.end());
				}

				template<typename... Args>
				std::pair<iterator, bool> emplace(Args&&... args)
				{
					return PushUnique(value_type(std::forward<Args>(args)...));
				}

				template<typename... Args>
				iterator emplace_hint(const_iterator /*hint*/, Args&&... args)
				{
					return emplace(std::forward<Args>(args)...).first;
				}

				iterator find(const Key& key)
				{
					return this->m_values.begin() + static_cast<difference_type>(IndexOf(key));
				}

				const_iterator find(const Key& key) const
				{
					return this->m_values.begin() + static_cast<difference_type>(IndexOf(key));
				}

				size_t count(const Key& key) const
				{
					return this->index.count(key);
				}

				bool contains(const Key& key) const
				{
					return this->index.find(key) != this->index.end();
				}

				iterator erase(const_iterator pos)
				{
					const auto idx  = static_cast<size_t>(pos - this->m_values.cbegin());
					const auto last = this->m_values.size() - 1;

					this->index.erase(KeyOf(this->m_values[idx]));

					if (idx != last)
					{
						this->m_values[idx]                      = std::move(this->m_values.back());
						this->index.find(KeyOf(this->m_values[idx]))->second = idx;
					}

					this->m_values.pop_back();

					return this->m_values.begin() + static_cast<difference_type>(idx);
				}

				iterator erase(iterator pos)
				{
					return erase(const_iterator(pos));
				}

				iterator erase(const_iterator first, const_iterator last)
				{
					/* Erase from the back so earlier positions stay meaningful. */
					const auto from = static_cast<size_t>(first - this->m_values.cbegin());
					auto to         = static_cast<size_t>(last - this->m_values.cbegin());

					while (to > from)
					{
						--to;
						erase(this->m_values.cbegin() + static_cast<difference_type>(to));
					}

					return this->m_values.begin() + static_cast<difference_type>(from);
				}

				size_t erase(const Key& key)
				{
					const size_t idx = IndexOf(key);

					if (idx == this->m_values.size())
					{
						return 0;
					}

					erase(this->m_values.cbegin() + static_cast<difference_type>(idx));

					return 1;
				}

				template<typename Pred>
				size_t erase_if(Pred pred)
				{
					size_t n = 0;

					for (size_t i = this->m_values.size(); i > 0; --i)
					{
						if (pred(this->m_values[i - 1]))
						{
							erase(this->m_values.cbegin() + static_cast<difference_type>(i - 1));
							++n;
						}
					}

					return n;
				}

				void swap(table& other) noexcept
				{
					this->m_values.swap(other.m_values);
					this->index.swap(other.index);
				}

				hasher hash_function() const
				{
					return this->index.hash_function().h;
				}

				key_equal key_eq() const
				{
					return this->index.key_eq();
				}

				/* Same elements, whatever the order. */
				friend bool operator==(const table& a, const table& b)
				{
					if (a.size() != b.size())
					{
						return false;
					}

					for (const auto& v : a.m_values)
					{
						auto it = b.find(KeyOf(v));

						if (it == b.end())
						{
							return false;
						}

						if constexpr (IsMap)
						{
							if (!(it->second == v.second))
							{
								return false;
							}
						}
					}

					return true;
				}

				friend bool operator!=(const table& a, const table& b)
				{
					return !(a == b);
				}
			};
		} // namespace detail

		template<typename Key, typename T, typename Hash = hash<Key>, typename KeyEqual = std::equal_to<Key>>
		class map : public detail::table<Key, T, Hash, KeyEqual, true>
		{
			using Base = detail::table<Key, T, Hash, KeyEqual, true>;

		public:
			using mapped_type = T;
			using typename Base::const_iterator;
			using typename Base::iterator;
			using typename Base::value_type;

			using Base::Base;
			using Base::operator=;

			map() = default;

			T& at(const Key& key)
			{
				auto it = this->find(key);

				if (it == this->end())
				{
					throw std::out_of_range("ankerl::unordered_dense::map::at(): key not found");
				}

				return it->second;
			}

			const T& at(const Key& key) const
			{
				auto it = this->find(key);

				if (it == this->end())
				{
					throw std::out_of_range("ankerl::unordered_dense::map::at(): key not found");
				}

				return it->second;
			}

			T& operator[](const Key& key)
			{
				return try_emplace(key).first->second;
			}

			T& operator[](Key&& key)
			{
				return try_emplace(std::move(key)).first->second;
			}

			template<typename... Args>
			std::pair<iterator, bool> try_emplace(const Key& key, Args&&... args)
			{
				auto it = this->find(key);

				if (it != this->end())
				{
					return { it, false };
				}

				return this->PushUnique(value_type(
				  std::piecewise_construct, std::forward_as_tuple(key), std::forward_as_tuple(std::forward<Args>(args)...)));
			}

			template<typename... Args>
			std::pair<iterator, bool> try_emplace(Key&& key, Args&&... args)
			{
				auto it = this->find(key);

				if (it != this->end())
				{
					return { it, false };
				}

				return this->PushUnique(value_type(
				  std::piecewise_construct,
				  std::forward_as_tuple(std::move(key)),
				  std::forward_as_tuple(std::forward<Args>(args)...)));
			}

			template<typename M>
			std::pair<iterator, bool> insert_or_assign(const Key& key, M&& obj)
			{
				auto it = this->find(key);

				if (it != this->end())
				{
					it->second = std::forward<M>(obj);

					return { it, false };
				}

				return this->PushUnique(value_type(key, std::forward<M>(obj)));
			}

			template<typename M>
			std::pair<iterator, bool> insert_or_assign(Key&& key, M&& obj)
			{
				auto it = this->find(key);

				if (it != this->end())
				{
					it->second = std::forward<M>(obj);

					return { it, false };
				}

				return this->PushUnique(value_type(std::move(key), std::forward<M>(obj)));
			}
		};

		template<typename Key, typename Hash = hash<Key>, typename KeyEqual = std::equal_to<Key>>
		class set : public detail::table<Key, void, Hash, KeyEqual, false>
		{
			using Base = detail::table<Key, void, Hash, KeyEqual, false>;

		public:
			using Base::Base;
			using Base::operator=;

			set() = default;
		};

		template<typename Key, typename T, typename Hash, typename KeyEqual, typename Pred>
		size_t erase_if(map<Key, T, Hash, KeyEqual>& m, Pred pred)
		{
			return m.erase_if(pred);
		}

		template<typename Key, typename Hash, typename KeyEqual, typename Pred>
		size_t erase_if(set<Key, Hash, KeyEqual>& s, Pred pred)
		{
			return s.erase_if(pred);
		}
	} // namespace unordered_dense
} // namespace ankerl

#endif
