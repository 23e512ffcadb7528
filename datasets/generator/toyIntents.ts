/**
 * toy-intents: SNIPS/TREC-shaped utterances for seven intents, from templates and slot fillers. Each intent
 * has common phrasings and one or two rare ones (`rareInSeed`) that share words with other intents ("i want
 * to see …" is find_movie, "i want … in the … playlist" is add_to_playlist), so they are hard without
 * examples of their own.
 */
import type { Rng } from "./prng.js";
import type { Kind, Phrasing } from "./splits.js";

export interface IntentExample {
  text: string;
  label: string;
}

const CITIES = ["paris", "london", "boston", "tokyo", "chicago", "denver", "madrid", "seattle", "berlin", "miami", "rome", "dallas"];
const DAYS = ["today", "tomorrow", "tonight", "this weekend", "on monday", "on friday", "next week", "this morning"];
const ARTISTS = ["the beatles", "adele", "miles davis", "taylor swift", "bob marley", "queen", "nina simone", "daft punk", "johnny cash", "shakira"];
const SONGS = ["yesterday", "hello", "blue in green", "shake it off", "three little birds", "bohemian rhapsody", "feeling good", "one more time", "ring of fire", "hips don't lie"];
const GENRES = ["jazz", "rock", "pop", "classical", "reggae", "country", "blues", "hip hop"];
const SERVICES = ["spotify", "deezer", "youtube", "pandora"];
const PLAYLISTS = ["road trip", "chill evening", "workout", "study time", "party mix", "sunday morning", "rainy day", "dinner jazz"];
const TIMES = ["6 am", "6:30 am", "7 am", "7:15 am", "8 am", "9 pm", "5:45 am", "10 am", "noon", "11 pm"];
const CUISINES = ["italian", "thai", "mexican", "indian", "french", "chinese", "greek", "japanese"];
const RESTAURANTS = ["the olive garden", "blue lotus", "casa rosa", "the golden spoon", "luigi's", "the corner bistro"];
const BOOKS = ["the hobbit", "dune", "emma", "moby dick", "the little prince", "war and peace", "jane eyre", "the odyssey", "dracula"];
const MOVIES = ["the lion king", "star wars", "jaws", "up", "frozen", "the matrix", "toy story", "casablanca", "inception"];
const CINEMAS = ["the grand cinema", "city plaza theater", "the rex", "sunset movies", "the odeon"];
const POLITE = ["", "", "", "please ", "can you ", "hey, "];

type Template = (rng: Rng) => string;

/** An intent from its common and rare phrasings, each named (the name becomes `<intent>/<name>`). */
function intent(name: string, common: Record<string, Template>, rare: Record<string, Template>): Kind<IntentExample> {
  const toPhrasing = ([id, make]: [string, Template], isRare: boolean): Phrasing<IntentExample> => ({
    id: `${name}/${id}`,
    rareInSeed: isRare,
    make: (rng) => ({ text: make(rng), label: name }),
  });
  return {
    name,
    phrasings: [...Object.entries(common).map((e) => toPhrasing(e, false)), ...Object.entries(rare).map((e) => toPhrasing(e, true))],
  };
}

const p = (rng: Rng) => rng.pick(POLITE);

const weather = intent(
  "weather",
  {
    "whats-the-weather": (r) => `what's the weather in ${r.pick(CITIES)} ${r.pick(DAYS)}`,
    "will-it-rain": (r) => `will it rain in ${r.pick(CITIES)} ${r.pick(DAYS)}?`,
    "tell-forecast": (r) => `${p(r)}tell me the forecast for ${r.pick(CITIES)}`,
    "is-it-cold": (r) => `is it going to be cold ${r.pick(DAYS)} in ${r.pick(CITIES)}?`,
  },
  {
    "need-umbrella": (r) => `do i need an umbrella in ${r.pick(CITIES)} ${r.pick(DAYS)}?`,
    "how-hot": (r) => `how hot will it get in ${r.pick(CITIES)} ${r.pick(DAYS)}`,
  },
);

const playMusic = intent(
  "play_music",
  {
    "play-song-by": (r) => `${p(r)}play ${r.pick(SONGS)} by ${r.pick(ARTISTS)}`,
    "play-genre": (r) => `${p(r)}play some ${r.pick(GENRES)} music on ${r.pick(SERVICES)}`,
    "put-on-artist": (r) => `${p(r)}put on ${r.pick(ARTISTS)} on ${r.pick(SERVICES)}`,
    "want-to-hear": (r) => `i want to hear ${r.pick(SONGS)} by ${r.pick(ARTISTS)}`,
  },
  {
    "spin-something": (r) => `spin something by ${r.pick(ARTISTS)} on ${r.pick(SERVICES)}`,
    "start-station": (r) => `start my ${r.pick(GENRES)} station on ${r.pick(SERVICES)}`,
  },
);

const setAlarm = intent(
  "set_alarm",
  {
    "alarm-for": (r) => `${p(r)}set an alarm for ${r.pick(TIMES)}`,
    "wake-me-up": (r) => `wake me up at ${r.pick(TIMES)} ${r.pick(DAYS)}`,
    "alarm-day-at": (r) => `${p(r)}set an alarm ${r.pick(DAYS)} at ${r.pick(TIMES)}`,
  },
  {
    "make-sure-up": (r) => `make sure i'm up by ${r.pick(TIMES)} ${r.pick(DAYS)}`,
    "need-to-get-up": (r) => `i need to get up at ${r.pick(TIMES)} ${r.pick(DAYS)}`,
  },
);

const bookRestaurant = intent(
  "book_restaurant",
  {
    "table-for-cuisine": (r) => `${p(r)}book a table for ${r.int(2, 9)} at a ${r.pick(CUISINES)} restaurant`,
    "reserve-in-city": (r) => `reserve a table for ${r.int(2, 9)} people in ${r.pick(CITIES)} ${r.pick(DAYS)}`,
    "reservation-at": (r) => `i need a reservation at ${r.pick(RESTAURANTS)} for ${r.pick(TIMES)}`,
  },
  {
    "somewhere-to-eat": (r) => `find us somewhere to eat ${r.pick(CUISINES)} food ${r.pick(DAYS)}`,
    "spot-for-dinner": (r) => `get me a spot for dinner at ${r.pick(RESTAURANTS)} ${r.pick(DAYS)}`,
  },
);

const addToPlaylist = intent(
  "add_to_playlist",
  {
    "add-song-to-my": (r) => `${p(r)}add ${r.pick(SONGS)} to my ${r.pick(PLAYLISTS)} playlist`,
    "put-song-on": (r) => `put ${r.pick(SONGS)} on ${r.pick(PLAYLISTS)}`,
    "add-artist-to": (r) => `add ${r.pick(ARTISTS)} to the ${r.pick(PLAYLISTS)} playlist`,
  },
  {
    "save-to-list": (r) => `save ${r.pick(SONGS)} to my ${r.pick(PLAYLISTS)} list`,
    "want-in-playlist": (r) => `i want ${r.pick(SONGS)} in the ${r.pick(PLAYLISTS)} playlist`,
  },
);

const rateBook = intent(
  "rate_book",
  {
    "rate-out-of": (r) => `${p(r)}rate ${r.pick(BOOKS)} ${r.int(1, 5)} out of 5`,
    "give-stars": (r) => `give ${r.pick(BOOKS)} ${r.int(1, 5)} stars`,
    "would-rate-points": (r) => `i would rate ${r.pick(BOOKS)} ${r.int(1, 5)} points`,
  },
  {
    "deserves-stars": (r) => `${r.pick(BOOKS)} deserves ${r.int(1, 5)} stars`,
    "mark-as-read": (r) => `mark ${r.pick(BOOKS)} as a ${r.int(1, 5)} star read`,
  },
);

const findMovie = intent(
  "find_movie",
  {
    "what-time-playing": (r) => `what time is ${r.pick(MOVIES)} playing ${r.pick(DAYS)}?`,
    "movie-times-at": (r) => `${p(r)}find movie times for ${r.pick(MOVIES)} at ${r.pick(CINEMAS)}`,
    "is-showing": (r) => `is ${r.pick(MOVIES)} showing at ${r.pick(CINEMAS)} ${r.pick(DAYS)}?`,
  },
  {
    "want-to-see": (r) => `i want to see ${r.pick(MOVIES)} ${r.pick(DAYS)}`,
    "any-good-films": (r) => `any good films on at ${r.pick(CINEMAS)} ${r.pick(DAYS)}?`,
  },
);

export const INTENTS: readonly Kind<IntentExample>[] = [weather, playMusic, setAlarm, bookRestaurant, addToPlaylist, rateBook, findMovie];
